-- One database per service (no service reads another's tables).
CREATE DATABASE registry;
CREATE DATABASE scheduling;
CREATE DATABASE clinical;
CREATE DATABASE reporting;
CREATE DATABASE gateway;
