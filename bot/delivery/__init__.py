"""Outgoing messages: put in the outbox with the change that causes them, delivered by a worker.

- outbox.py: what the application calls, inside its transactions (a message, a card, an edit).
- codec.py: messages to and from the JSON the outbox row keeps.
- worker.py: claims each chat's next message, delivers it through the chat's channel, retries.
- steps.py: how each kind of message is delivered, and what its delivery sets in motion.
"""
