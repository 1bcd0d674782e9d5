"""CSS, JS and the icon of the admin panel (a package so that the wheel ships them)."""
