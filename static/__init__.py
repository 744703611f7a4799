"""Static assets of the site (the repository's static/ folder, shipped as a package)."""
