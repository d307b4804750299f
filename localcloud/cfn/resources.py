"""Resource models for types moto's CloudFormation skips."""
