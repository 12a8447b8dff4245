"""The lanes CrossGuard pack (`pulumi preview --policy-pack policies`); policies: lanes_policies."""

from lanes_policies import PACK_NAME, POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
