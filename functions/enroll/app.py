"""Enrollment function: children, enrollments, certificates and their ledger.

Its routes arrive with the enrollment issue; template.yaml lists only the routes that exist.
"""

from __future__ import annotations

from navigator.api.app import Api

api = Api()

handler = api.lambda_handler()
