"""What each identity's calls need in the cloud, and what Google's predefined
roles hold: the tables that tests/unit/test_iam_needs.py checks terraform/
against (docs/permissions.md says the same in prose)."""
