"""The report domain: lifecycle, routing, places, deadlines, desks, points."""
