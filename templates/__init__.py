"""Jinja2 templates of the static site (the repository's templates/ folder, shipped as a package)."""
