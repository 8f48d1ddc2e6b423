#!/bin/sh
# The broker's command: on first start, format the log with its SCRAM-SHA-512 users (KRaft keeps them in the
# metadata log: KIP-900), then run the broker. A formatted log is kept as it is (--ignore-formatted), so
# a password changed later in .env is not applied here: change it with kafka-configs.sh --alter
# --add-config 'SCRAM-SHA-512=[password=...]' --entity-type users --entity-name <user> as the admin.
set -eu
bin=/opt/kafka/bin
config=/etc/kafka/cadrecare/server.properties
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  "$bin/kafka-storage.sh" format --ignore-formatted --config "$config" \
    --cluster-id "$("$bin/kafka-storage.sh" random-uuid)" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=registry,password=$KAFKA_REGISTRY_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=scheduling,password=$KAFKA_SCHEDULING_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=clinical,password=$KAFKA_CLINICAL_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=reporting,password=$KAFKA_REPORTING_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=gateway,password=$KAFKA_GATEWAY_PASSWORD]"
fi
exec "$bin/kafka-server-start.sh" "$config"
