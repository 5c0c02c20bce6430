"""Golden cases: `tests/golden/<case>/` holds the expected output tree of one project."""
