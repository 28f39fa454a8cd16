"""The crisis cell around a GCC activation: what runs it beyond its objects (paging the
cell, escalating overdue tasks, templates, standard procedures)."""
