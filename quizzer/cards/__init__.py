"""Cards as data: the deck format's models, loading and linting TOML decks, the parsed-deck cache,
and what one review of a card poses."""
