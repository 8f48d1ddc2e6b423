#!/bin/sh
# Each service's SCRAM user may write only the topics it produces (and the dead-letter topics of what it
# consumes), read only what it consumes, and use its own consumer groups: exactly the ACLs of the KafkaUsers
# in deploy/k8s/base/kafka-access.yaml (tests/contract/test_transport.py holds the two equal).
# Run by the admin; adding an ACL that exists changes nothing.
set -eu
bin=${KAFKA_BIN:-/opt/kafka/bin}  # the test runs this script against a stand-in kafka-acls.sh
grant() {  # user, resource type (topic|group), pattern (literal|prefixed), operations (comma-separated), names...
  user=$1 type=$2 pattern=$3 operations=$4
  shift 4
  words=""  # names and operations hold no spaces: one word each
  for operation in $(echo "$operations" | tr , ' '); do words="$words --operation $operation"; done
  for name in "$@"; do words="$words --$type $name"; done
  # shellcheck disable=SC2086
  "$bin/kafka-acls.sh" --bootstrap-server kafka:9092 --command-config /etc/kafka/cadrecare/admin.properties \
    --add --allow-principal "User:$user" --resource-pattern-type "$pattern" $words
}
grant registry topic literal Write,Describe cadrecare.registry.cadre.v1 cadrecare.registry.unit.v1

grant scheduling topic literal Write,Describe cadrecare.scheduling.plan.v1 cadrecare.scheduling.invitation.v1 \
  cadrecare.scheduling.convalescence.v1 \
  cadrecare.clinical.record.v1.dlq cadrecare.registry.cadre.v1.dlq cadrecare.registry.unit.v1.dlq
grant scheduling topic literal Read,Describe cadrecare.clinical.record.v1 cadrecare.registry.cadre.v1 \
  cadrecare.registry.unit.v1
grant scheduling group prefixed Read,Describe cadrecare-scheduling-

grant clinical topic literal Write,Describe cadrecare.clinical.record.v1 cadrecare.registry.cadre.v1.dlq
grant clinical topic literal Read,Describe cadrecare.registry.cadre.v1
grant clinical group prefixed Read,Describe cadrecare-clinical-

grant reporting topic literal Write,Describe cadrecare.reporting.report.v1 \
  cadrecare.clinical.record.v1.dlq cadrecare.registry.cadre.v1.dlq cadrecare.registry.unit.v1.dlq \
  cadrecare.scheduling.convalescence.v1.dlq cadrecare.scheduling.invitation.v1.dlq cadrecare.scheduling.plan.v1.dlq
grant reporting topic literal Read,Describe cadrecare.clinical.record.v1 cadrecare.registry.cadre.v1 \
  cadrecare.registry.unit.v1 cadrecare.scheduling.convalescence.v1 cadrecare.scheduling.invitation.v1 \
  cadrecare.scheduling.plan.v1
grant reporting group prefixed Read,Describe cadrecare-reporting-

grant gateway topic literal Write,Describe cadrecare.registry.cadre.v1.dlq cadrecare.registry.unit.v1.dlq
grant gateway topic literal Read,Describe cadrecare.registry.cadre.v1 cadrecare.registry.unit.v1
grant gateway group prefixed Read,Describe cadrecare-gateway-
