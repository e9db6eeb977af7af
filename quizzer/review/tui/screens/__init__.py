"""The app's screens: decks, review, summary, statistics, browser, help."""
