"""Inspections: the unit register in chat, the guided report, review and follow-up."""
