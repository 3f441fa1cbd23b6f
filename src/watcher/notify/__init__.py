"""Notifications: alerts as things happen, digests by mail, webhooks."""
