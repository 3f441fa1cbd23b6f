"""Before/after page pairs with the expected verdict (see README.md here)."""
