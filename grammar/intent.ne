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
  bareName, addressWord, numberWord, quantityWord, portWord, icmpWord,
  protocolSlashWord, methodWord, namespacedWord, namespacedString,
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

include -> "include" %string               {% b.include %}
  | "include" %bareName                    {% b.include %}

let -> "let" %bareName "=" letValue        {% b.letStatement %}
letValue -> %bareName                      {% id %}
  | %string                                {% id %}

# ---------------------------------------------------------------- values

name -> %bareName                          {% b.leaf %}
  | %string                                {% b.leaf %}
  | %ref                                   {% b.nameRef %}
nameList -> name                           {% b.one %}
  | nameList "," name                      {% b.more %}

# Label values, FQDNs: names, strings or numbers.
text -> %bareName                          {% b.leaf %}
  | %string                                {% b.leaf %}
  | %ref                                   {% b.textRef %}
textList -> text                           {% b.one %}
  | textList "," text                      {% b.more %}

# L7 values are always quoted (they are paths, patterns, topics).
l7Text -> %string                          {% b.leaf %}
  | %ref                                   {% b.textRef %}

address -> %addressWord                    {% b.leaf %}
  | %string                                {% b.leaf %}
  | %ref                                   {% b.addressRef %}
addressList -> address                     {% b.one %}
  | addressList "," address                {% b.more %}

range -> %addressWord                      {% b.range %}
  | %string                                {% b.range %}
  | %ref                                   {% b.range %}
rangeList -> range                         {% b.one %}
  | rangeList "," range                    {% b.more %}

number -> %numberWord                      {% b.number %}
  | %ref                                   {% b.number %}

rate -> %quantityWord                      {% b.rate %}
  | %ref                                   {% b.rate %}
duration -> %quantityWord                  {% b.duration %}
  | %ref                                   {% b.duration %}
percent -> %quantityWord                   {% b.percent %}
  | %ref                                   {% b.percent %}

namespaced -> %namespacedWord              {% b.namespaced %}
  | %namespacedString                      {% b.namespaced %}

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
key -> %bareName                           {% b.leaf %}
  | %string                                {% b.leaf %}

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

inlineMember -> podsMember                 {% id %}
  | cidrMember                             {% id %}
  | fqdnMember                             {% id %}
  | serviceMember                          {% id %}

member -> inlineMember                     {% id %}
  | "group" name                           {% b.groupMember %}

peers -> peer                              {% b.one %}
  | peers "or" peer                        {% b.more %}
peer -> "any"                              {% b.anyPeer %}
  | name                                   {% b.groupPeer %}
  | inlineMember                           {% b.inlinePeer %}

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
kafkaRole -> "produce"                     {% b.leaf %}
  | "consume"                              {% b.leaf %}
  | %string                                {% b.leaf %}
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
  | "isolation" isolation                  {% b.item('isolation') %}
  | "pool" rangeList                       {% b.item('pools') %}
  | "cap" "ingress" rate                   {% b.cap %}
  | "cap" "egress" rate                    {% b.cap %}
  | "cap" "ingress" rate "egress" rate     {% b.cap %}
  | "networks" nameList                    {% b.item('networks') %}
  | "allow" "host-access"                  {% b.item('hostAccess') %}
isolation -> "strict"                      {% id %}
  | "default"                              {% id %}
  | "none"                                 {% id %}

group -> "group" name "{" members "}"      {% b.group %}
members -> null                            {% b.nil %}
  | members member                         {% b.snoc %}

policy -> "policy" name policyTier policyPriority "{" rules "}"  {% b.policy %}
policyTier -> null                         {% b.nil %}
  | "tier" tier                            {% b.second %}
tier -> "admin"                            {% id %}
  | "tenant"                               {% id %}
  | "application"                          {% id %}
  | "baseline"                             {% id %}
policyPriority -> null                     {% b.nil %}
  | "priority" number                      {% b.second %}
rules -> null                              {% b.nil %}
  | rules rule                             {% b.snoc %}
rule -> action peers "->" peers portClause l7Clause logFlag l4OnlyFlag  {% b.rule %}
action -> "allow"                          {% id %}
  | "deny"                                 {% id %}
  | "reject"                               {% id %}
  | "pass"                                 {% id %}
logFlag -> null                            {% b.nil %}
  | "log"                                  {% id %}
l4OnlyFlag -> null                         {% b.nil %}
  | "l4-only"                              {% id %}

fixedIp -> "fixed-ip" namespaced addressList                  {% b.fixedIp %}

pool -> "pool" name workload rangeList poolReserve            {% b.pool %}
workload -> "deployment" namespaced        {% b.workload %}
  | "statefulset" namespaced               {% b.workload %}
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
policyTypes -> policyType                  {% b.one %}
  | policyTypes "," policyType             {% b.more %}
policyType -> "ingress"                    {% id %}
  | "egress"                               {% id %}
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
