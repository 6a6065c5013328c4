"""Alarms with a lifecycle: built-in rules evaluated by one process, raised once per condition,
acknowledged or resolved, notified to contacts and webhooks, streamed to subscribers."""
