"""CloudFormation resource types moto lacks, registered as CloudFormationModel subclasses."""


def register_resource_types() -> None:
    """Import our models (defining a subclass registers it) and drop moto's cached type map."""
    from moto.cloudformation import parsing

    from . import resources  # noqa: F401 - imported for its subclass registrations
    from .failures import install_failure_handling
    from .fidelity import install_property_fixes
    from .intrinsics import install_novalue_lists
    from .updates import install_rule_updates_in_place

    install_failure_handling()
    install_novalue_lists()
    install_rule_updates_in_place()

    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    install_property_fixes(parsing.get_model_map())
