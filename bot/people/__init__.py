"""People: riders and staff, and the channel accounts that identify them."""
