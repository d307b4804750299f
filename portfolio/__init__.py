"""Publish the catalog's products into AWS Service Catalog: plan, publish, status, launch."""
