"""The local runner: plays the deployed stack (SQS → Lambda → S3, DynamoDB) against a moto server
on loopback, with the same handler code. Development tooling: not part of the Lambda package."""
