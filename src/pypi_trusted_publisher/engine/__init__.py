"""The engine: a transport chosen per registration, one login per index, every outcome a Result."""
