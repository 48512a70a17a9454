# The netintent DSL grammar (see docs/dsl.md). Compiled by `npm run grammar` into
# src/frontend/dsl/grammar.generated.ts. Tokens come from grammar/lexer.ts; keywords are
# matched by text ("tenant"), names by predicate terminals (%bareName excludes reserved words).
# Lists are left-recursive cons lists (fast in Earley, flattened by the builders).
# The grammar must stay unambiguous: test/frontend/dsl checks one parse per program.

@preprocessor typescript

@{%
import { vocabulary as lexer, terminals } from '../../../grammar/lexer.js';
import * as b from './build.js';

const {
  nameToken, keyToken, plainNameToken, pathToken, letValueToken, l7Token, addressToken, numberToken,
  rateToken, durationToken, percentToken, portWord, icmpWord, protocolSlashWord, methodWord,
  namespacedToken, actionWord, tierWord, isolationWord, directionWord, workloadWord, kafkaRoleToken,
} = terminals;
%}

@lexer lexer

program -> statements                      {% b.program %}
statements -> null                         {% b.nil %}
  | statements statement                   {% b.snoc %}

statement -> include                       {% id %}
  | let                                    {% id %}
  | cluster                                {% id %}
  | tenant                                 {% id %}
  | group                                  {% id %}
  | policy                                 {% id %}
  | fixedIp                                {% id %}
  | pool                                   {% id %}
  | egressGateway                          {% id %}
  | rateLimit                              {% id %}
  | networkPolicy                          {% id %}

# ---------------------------------------------------------------- include, let

include -> "include" %pathToken            {% b.include %}

let -> "let" %plainNameToken "=" %letValueToken                {% b.letStatement %}

# ---------------------------------------------------------------- values

name -> %nameToken                         {% b.name %}
nameList -> name                           {% b.one %}
  | nameList "," name                      {% b.more %}

# Label values, FQDNs: names, strings or numbers.
text -> %nameToken                         {% b.text %}
textList -> text                           {% b.one %}
  | textList "," text                      {% b.more %}

# L7 values are always quoted (they are paths, patterns, topics).
l7Text -> %l7Token                         {% b.text %}

address -> %addressToken                   {% b.address %}
addressList -> address                     {% b.one %}
  | addressList "," address                {% b.more %}

range -> %addressToken                     {% b.range %}
rangeList -> range                         {% b.one %}
  | rangeList "," range                    {% b.more %}

number -> %numberToken                     {% b.number %}
rate -> %rateToken                         {% b.rate %}
duration -> %durationToken                 {% b.duration %}
percent -> %percentToken                   {% b.percent %}
namespaced -> %namespacedToken             {% b.namespaced %}

# ---------------------------------------------------------------- selectors

selector -> "all"                          {% b.selectorAll %}
  | terms                                  {% b.selector %}
terms -> term                              {% b.one %}
  | terms "," term                         {% b.more %}
term -> key "=" text                       {% b.term('eq') %}
  | key "!=" text                          {% b.term('neq') %}
  | key "in" "(" textList ")"              {% b.term('in') %}
  | key "notin" "(" textList ")"           {% b.term('notin') %}
  | key                                    {% b.term('exists') %}
  | "!" key                                {% b.term('notexists') %}
key -> %keyToken                           {% b.leaf %}

# `where k = v, …` or `all`: namespace and node selectors.
whereSelector -> "where" terms             {% b.whereSelector %}
  | "all"                                  {% b.selectorAll %}

# ---------------------------------------------------------------- group members and peers

podsMember -> "pods" selector podsScope inCluster onNetwork   {% b.podsMember %}
podsScope -> null                          {% b.nil %}
  | "in" "namespace" nameList              {% b.scopeNames %}
  | "in" "namespaces" nameList             {% b.scopeNames %}
  | "in" "namespaces" whereSelector        {% b.scopeSelector %}
  | "in" "tenant" name                     {% b.scopeTenant %}
inCluster -> null                          {% b.nil %}
  | "in" "cluster" name                    {% b.third %}
onNetwork -> null                          {% b.nil %}
  | "on" "network" name                    {% b.third %}

cidrMember -> "cidr" address exceptList    {% b.cidrMember %}
exceptList -> null                         {% b.nil %}
  | "except" addressList                   {% b.second %}
fqdnMember -> "fqdn" text                  {% b.fqdnMember %}
serviceMember -> "service" namespaced inCluster               {% b.serviceMember %}

member -> podsMember                       {% id %}
  | cidrMember                             {% id %}
  | fqdnMember                             {% id %}
  | serviceMember                          {% id %}
  | "group" name                           {% b.groupMember %}

peers -> peer                              {% b.one %}
  | peers "or" peer                        {% b.more %}
peer -> "any"                              {% b.anyPeer %}
  | name                                   {% b.groupPeer %}
  | podsMember                             {% b.inlinePeer %}
  | cidrMember                             {% b.inlinePeer %}
  | fqdnMember                             {% b.inlinePeer %}
  | serviceMember                          {% b.inlinePeer %}

# ---------------------------------------------------------------- ports and L7

portClause -> null                         {% b.nil %}
  | "on" portList                          {% b.second %}
portList -> port                           {% b.one %}
  | portList "," port                      {% b.more %}
port -> %portWord                          {% b.port %}
  | %protocolSlashWord %ref                {% b.portRef %}
  | %icmpWord "type" number                {% b.icmp %}
  | %icmpWord "type" number "code" number  {% b.icmp %}

l7Clause -> null                           {% b.nil %}
  | l7Blocks                               {% b.l7Clause %}
l7Blocks -> l7Block                        {% b.one %}
  | l7Blocks l7Block                       {% b.snoc %}
l7Block -> "http" "{" httpRules "}"        {% b.l7Block('http') %}
  | "kafka" "{" kafkaRules "}"             {% b.l7Block('kafka') %}
  | "dns" "{" dnsRules "}"                 {% b.l7Block('dns') %}

httpRules -> null                          {% b.nil %}
  | httpRules httpRule                     {% b.snoc %}
httpRule -> httpMethod httpPath httpHost httpHeaders          {% b.httpRule %}
httpMethod -> %methodWord                  {% b.leaf %}
  | "*"                                    {% b.wildcard %}
httpPath -> null                           {% b.nil %}
  | l7Text                                 {% id %}
httpHost -> null                           {% b.nil %}
  | "host" l7Text                          {% b.second %}
httpHeaders -> null                        {% b.nil %}
  | httpHeaders httpHeader                 {% b.snoc %}
httpHeader -> "header" l7Text              {% b.httpHeader %}
  | "header" l7Text "=" l7Text             {% b.httpHeader %}

kafkaRules -> null                         {% b.nil %}
  | kafkaRules kafkaRule                   {% b.snoc %}
kafkaRule -> kafkaRole kafkaApiKey kafkaTopic kafkaClientId   {% b.kafkaRule %}
kafkaRole -> %kafkaRoleToken              {% b.leaf %}
  | "*"                                    {% b.wildcard %}
kafkaApiKey -> null                        {% b.nil %}
  | "api-key" l7Text                       {% b.second %}
kafkaTopic -> null                         {% b.nil %}
  | "topic" l7Text                         {% b.second %}
kafkaClientId -> null                      {% b.nil %}
  | "client-id" l7Text                     {% b.second %}

dnsRules -> null                           {% b.nil %}
  | dnsRules dnsRule                       {% b.snoc %}
dnsRule -> "name" l7Text                   {% b.dnsRule('matchName') %}
  | "pattern" l7Text                       {% b.dnsRule('matchPattern') %}

# ---------------------------------------------------------------- statements

cluster -> "cluster" name "{" clusterItems "}"                {% b.cluster %}
clusterItems -> null                       {% b.nil %}
  | clusterItems clusterItem               {% b.snoc %}
clusterItem -> "pods" addressList          {% b.item('podCidrs') %}
  | "services" addressList                 {% b.item('serviceCidrs') %}

tenant -> "tenant" name "{" tenantItems "}"                   {% b.tenant %}
tenantItems -> null                        {% b.nil %}
  | tenantItems tenantItem                 {% b.snoc %}
tenantItem -> "namespaces" nameList        {% b.item('namespaceNames') %}
  | "namespaces" whereSelector             {% b.item('namespaceSelector') %}
  | "isolation" %isolationWord            {% b.item('isolation') %}
  | "pool" rangeList                       {% b.item('pools') %}
  | "cap" "ingress" rate                   {% b.cap %}
  | "cap" "egress" rate                    {% b.cap %}
  | "cap" "ingress" rate "egress" rate     {% b.cap %}
  | "networks" nameList                    {% b.item('networks') %}
  | "allow" "host-access"                  {% b.item('hostAccess') %}

group -> "group" name "{" members "}"      {% b.group %}
members -> null                            {% b.nil %}
  | members member                         {% b.snoc %}

policy -> "policy" name policyTier policyPriority "{" rules "}"  {% b.policy %}
policyTier -> null                         {% b.nil %}
  | "tier" %tierWord                       {% b.second %}
policyPriority -> null                     {% b.nil %}
  | "priority" number                      {% b.second %}
rules -> null                              {% b.nil %}
  | rules rule                             {% b.snoc %}
rule -> %actionWord peers "->" peers portClause l7Clause logFlag l4OnlyFlag  {% b.rule %}
logFlag -> null                            {% b.nil %}
  | "log"                                  {% id %}
l4OnlyFlag -> null                         {% b.nil %}
  | "l4-only"                              {% id %}

fixedIp -> "fixed-ip" namespaced addressList                  {% b.fixedIp %}

pool -> "pool" name workload rangeList poolReserve            {% b.pool %}
workload -> %workloadWord namespaced        {% b.workload %}
poolReserve -> null                        {% b.nil %}
  | "reserve" addressList                  {% b.second %}

egressGateway -> "egress-gateway" name "{" egressItems "}"    {% b.egressGateway %}
egressItems -> null                        {% b.nil %}
  | egressItems egressItem                 {% b.snoc %}
egressItem -> "pods" peers                 {% b.item('pods') %}
  | "to" addressList exceptList            {% b.egressTo %}
  | "nodes" whereSelector                  {% b.item('nodeSelector') %}
  | "nodes" nameList                       {% b.item('nodes') %}
  | "egress-ip" addressList                {% b.item('egressIps') %}

rateLimit -> "rate" name "{" rateItems "}" {% b.rateLimit %}
rateItems -> null                          {% b.nil %}
  | rateItems rateItem                     {% b.snoc %}
rateItem -> "pods" peers                   {% b.item('pods') %}
  | "ingress" rate                         {% b.item('ingress') %}
  | "egress" rate                          {% b.item('egress') %}
  | "latency" duration                     {% b.item('latency') %}
  | "jitter" duration                      {% b.item('jitter') %}
  | "loss" percent                         {% b.item('loss') %}

networkPolicy -> "networkpolicy" namespaced "{" netpolItems "}"  {% b.networkPolicy %}
netpolItems -> null                        {% b.nil %}
  | netpolItems netpolItem                 {% b.snoc %}
netpolItem -> "select" selector            {% b.item('select') %}
  | "types" policyTypes                    {% b.item('types') %}
  | "ingress" netpolFrom portClause        {% b.netpolRule('ingress') %}
  | "egress" netpolTo portClause           {% b.netpolRule('egress') %}
policyTypes -> %directionWord              {% b.one %}
  | policyTypes "," %directionWord         {% b.more %}
netpolFrom -> null                         {% b.nil %}
  | "from" netpolPeers                     {% b.second %}
netpolTo -> null                           {% b.nil %}
  | "to" netpolPeers                       {% b.second %}
netpolPeers -> "any"                       {% b.nil %}
  | netpolPeerList                         {% id %}
netpolPeerList -> netpolPeer               {% b.one %}
  | netpolPeerList "or" netpolPeer         {% b.more %}
netpolPeer -> "pods" selector              {% b.netpolPods %}
  | "pods" selector "in" "namespaces" whereSelector           {% b.netpolPods %}
  | "namespaces" whereSelector             {% b.netpolNamespaces %}
  | "cidr" address exceptList              {% b.netpolIpBlock %}
