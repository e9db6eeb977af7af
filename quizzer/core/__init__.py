"""The pure core: scheduling, answer checking, math and template rendering.

No I/O, no clock, no framework, no randomness it is not handed."""
