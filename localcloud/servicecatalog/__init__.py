"""AWS Service Catalog emulation: the admin model, provisioning and the JSON protocol plumbing."""
