"""Delivery channels: email over SMTP, object storage, webhooks."""
