"""nudge: one personalized marketing email per customer.

The core package is plain Python (no boto3 outside `nudge.storage`), so recommendation, copy
generation, guardrails and rendering run and are tested without AWS.
"""

__version__ = "0.1.0"
