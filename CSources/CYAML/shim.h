// libyaml's event parser: YAML configuration without Foundation.
#include <yaml.h>
