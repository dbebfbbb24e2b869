"""search_and_delete_emails: a phishing campaign estimated, approved, then removed.

``approval`` binds an estimate's criteria and scope into a signed token; ``audit`` writes the
JSON-lines record of every removal; ``fanout`` runs the pack's own search and batched
removals; ``ediscovery`` hands the work to Microsoft Purview eDiscovery (Graph security API);
``engine`` picks between them; ``models`` is the action's output.
"""
