// Staff accounts tab (admins only).
