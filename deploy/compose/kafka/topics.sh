#!/bin/sh
# The bus's topics, created once by the admin (services run with <SERVICE>_KAFKA_CREATE_TOPICS=false and
# may not create any): the same topics as the KafkaTopics of deploy/k8s/base/kafka-access.yaml, on one node.
# tests/contract/test_transport.py holds the two lists equal. Existing topics are left as they are.
set -eu
bin=${KAFKA_BIN:-/opt/kafka/bin}  # the test runs this script against a stand-in kafka-topics.sh
topic() {
  "$bin/kafka-topics.sh" --bootstrap-server kafka:9092 --command-config /etc/kafka/cadrecare/admin.properties \
    --create --if-not-exists --topic "$1" --partitions 3 --replication-factor 1 --config retention.ms=-1
}
topic cadrecare.registry.cadre.v1
topic cadrecare.registry.unit.v1
topic cadrecare.scheduling.plan.v1
topic cadrecare.scheduling.invitation.v1
topic cadrecare.scheduling.convalescence.v1
topic cadrecare.clinical.record.v1
topic cadrecare.reporting.report.v1
# dead-letter topics: messages a consumer could not apply, kept for inspection
topic cadrecare.registry.cadre.v1.dlq
topic cadrecare.registry.unit.v1.dlq
topic cadrecare.scheduling.plan.v1.dlq
topic cadrecare.scheduling.invitation.v1.dlq
topic cadrecare.scheduling.convalescence.v1.dlq
topic cadrecare.clinical.record.v1.dlq
