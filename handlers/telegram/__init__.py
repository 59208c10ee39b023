"""The Telegram channel: updates in (handlers per chat kind), the courier out.

Each handler identifies the person, calls the application (bot/), and renders what it says
as Telegram messages, keyboards, edits and toasts; courier.py delivers what the outbox holds.
"""
