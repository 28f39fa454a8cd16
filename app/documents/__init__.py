"""Documents attached to operational objects (the "Casus" library): storage, sniffing, versions."""
