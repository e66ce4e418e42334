"""Mail: what each kind shows, its words and dates, the calendar part, and the bytes of the
mail (docs/architecture.md). Rendering reads the templates; the rest is pure."""
