"""Intake: a rider's report from the first photo to the ticket, on any channel."""
