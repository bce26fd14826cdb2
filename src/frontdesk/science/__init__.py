"""Queueing science for Frontdesk: pure Python, no Django import."""
