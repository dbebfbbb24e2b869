"""Exchange Pack: SOAR actions on Microsoft Exchange mailboxes over Microsoft Graph and EWS."""

__version__ = "0.1.0"
