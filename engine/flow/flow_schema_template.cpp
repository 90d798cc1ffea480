// The hand-kept part of flows/flow.schema.json: everything but the nodes (listeners, services,
// classes, functions, configurables, connections, TLS settings, and the shared expression, type and
// identifier definitions). flow_schema() adds a definition per node kind from its description.
#include <string_view>

namespace flowd {

extern const std::string_view kFlowSchemaTemplate;

const std::string_view kFlowSchemaTemplate = R"json(
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://flowd.dev/schema/flow.schema.json",
  "title": "flowd flow",
  "description": "A flowd flow: one JSON file describing a TCP service as a tree of nodes (see docs/flow-format.md). Every value is an expression string of the flow expression language. Unknown keys are ignored by the loader, so editor metadata may be added anywhere.",
  "type": "object",
  "properties": {
    "$schema": {
      "description": "Path or URL of this schema, so editors can check and complete the file. Example: \"./flow.schema.json\" or \"../../flows/flow.schema.json\".",
      "type": "string",
      "examples": [
        "./flow.schema.json",
        "../../flows/flow.schema.json"
      ]
    },
    "name": {
      "description": "Module name, shown in log lines as module=<name>. Defaults to the file stem. Example: \"chat\".",
      "$ref": "#/$defs/identifier",
      "examples": [
        "chat"
      ]
    },
    "description": {
      "description": "Free text describing the flow. Example: \"The TCP chat service of the BI tutorial.\"",
      "type": "string"
    },
    "configurables": {
      "description": "Configurable module values (Ballerina `configurable int port = 3000;`). Example: [{\"name\": \"port\", \"type\": \"int\", \"default\": \"3000\"}].",
      "type": "array",
      "items": {
        "$ref": "#/$defs/configurable"
      }
    },
    "listeners": {
      "description": "Listeners the services attach to (Ballerina `listener tcp:Listener tcpListener = new (port)`). Example: [{\"name\": \"tcpListener\", \"kind\": \"tcp\", \"port\": \"port\"}].",
      "type": "array",
      "items": {
        "$ref": "#/$defs/listener"
      }
    },
    "services": {
      "description": "Services attached to listeners (Ballerina `service on tcpListener { ... }`). Example: [{\"listener\": \"tcpListener\", \"onConnect\": {\"parameters\": [...], \"nodes\": [...]}}].",
      "type": "array",
      "items": {
        "$ref": "#/$defs/service"
      }
    },
    "classes": {
      "description": "Service classes returned by onConnect (Ballerina `service class ChatService { *tcp:ConnectionService; ... }`). Example: [{\"name\": \"ChatService\", \"variables\": [...], \"methods\": {\"onBytes\": {...}}}].",
      "type": "array",
      "items": {
        "$ref": "#/$defs/class"
      }
    },
    "functions": {
      "description": "Module-level functions callable from FUNCTION_CALL nodes by their plain name. Example: [{\"name\": \"greet\", \"parameters\": [{\"name\": \"who\", \"type\": \"string\"}], \"returnType\": \"string\", \"nodes\": [...]}].",
      "type": "array",
      "items": {
        "$ref": "#/$defs/namedFunction"
      }
    },
    "variables": {
      "description": "Module-level variables (Ballerina `string[] users = [];` at module level). Example: [{\"name\": \"users\", \"type\": \"string[]\", \"expression\": \"[]\"}].",
      "type": "array",
      "items": {
        "$ref": "#/$defs/moduleVariable"
      }
    },
    "connections": {
      "description": "Module-level connections to other TCP services (tcp:Client), connected at start. Example: [{\"name\": \"backend\", \"node\": \"NEW_CONNECTION\", \"remoteHost\": \"backendHost\", \"remotePort\": \"backendPort\"}].",
      "type": "array",
      "items": {
        "$ref": "#/$defs/connection"
      }
    }
  },
  "$defs": {
    "identifier": {
      "description": "An identifier: a letter or underscore followed by letters, digits or underscores. Example: \"welcomePrompt\".",
      "type": "string",
      "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"
    },
    "expression": {
      "description": "An expression of the flow expression language. Examples: \"3000\", \"\\\"hello\\\"\", \"port + 1\", \"string `Welcome ${self.username}`\", \"data.toBytes()\".",
      "type": "string",
      "minLength": 1,
      "examples": [
        "3000",
        "\"hello\"",
        "port + 1",
        "self.username == \"\""
      ]
    },
    "type": {
      "description": "A type. Examples: \"int\", \"string\", \"boolean\", \"byte[]\", \"int[]\", \"string|error\", \"map<string>\", \"tcp:Caller\", \"error\", or a flow class name such as \"ChatService\".",
      "type": "string",
      "minLength": 1,
      "examples": [
        "int",
        "string",
        "boolean",
        "byte[]",
        "int[]",
        "string|error",
        "map<string>",
        "tcp:Caller",
        "error"
      ]
    },
    "nodes": {
      "description": "A sequence of nodes, executed in order. Example: [{\"node\": \"VARIABLE\", \"variable\": \"x\", \"type\": \"int\", \"expression\": \"1\"}].",
      "type": "array",
      "items": {
        "$ref": "#/$defs/node"
      }
    },
    "parameter": {
      "description": "A function parameter. Example: {\"name\": \"caller\", \"type\": \"tcp:Caller\"}.",
      "type": "object",
      "required": [
        "name",
        "type"
      ],
      "properties": {
        "name": {
          "description": "Parameter name. Example: \"caller\".",
          "$ref": "#/$defs/identifier"
        },
        "type": {
          "description": "Parameter type. Example: \"tcp:Caller\", \"byte[]\", \"error\".",
          "$ref": "#/$defs/type"
        }
      }
    },
    "function": {
      "description": "A function body (handler or method): parameters and the nodes to run. Example: {\"parameters\": [{\"name\": \"caller\", \"type\": \"tcp:Caller\"}], \"nodes\": [...]}.",
      "type": "object",
      "required": [
        "nodes"
      ],
      "properties": {
        "parameters": {
          "description": "Parameters, in order. Omit for none. Example: [{\"name\": \"caller\", \"type\": \"tcp:Caller\"}, {\"name\": \"data\", \"type\": \"byte[]\"}].",
          "type": "array",
          "items": {
            "$ref": "#/$defs/parameter"
          }
        },
        "returnType": {
          "description": "Return type; omit for no return value. Example: \"string\", \"byte[]|error\".",
          "$ref": "#/$defs/type"
        },
        "nodes": {
          "description": "The body: nodes executed in order. Example: [{\"node\": \"RETURN\"}].",
          "$ref": "#/$defs/nodes"
        },
        "description": {
          "description": "Free text describing the function. Example: \"Greets a new client.\"",
          "type": "string"
        }
      }
    },
    "namedFunction": {
      "description": "A module-level function. Example: {\"name\": \"greet\", \"parameters\": [{\"name\": \"who\", \"type\": \"string\"}], \"returnType\": \"string\", \"nodes\": [...]}.",
      "$ref": "#/$defs/function",
      "required": [
        "name"
      ],
      "properties": {
        "name": {
          "description": "Function name, used by FUNCTION_CALL nodes. Example: \"greet\".",
          "$ref": "#/$defs/identifier"
        }
      }
    },
    "configurable": {
      "description": "A configurable value. Example: {\"name\": \"port\", \"type\": \"int\", \"default\": \"3000\"}.",
      "type": "object",
      "required": [
        "name",
        "type"
      ],
      "properties": {
        "name": {
          "description": "Configurable name. Example: \"port\".",
          "$ref": "#/$defs/identifier"
        },
        "type": {
          "description": "Configurable type. Example: \"int\", \"string\".",
          "$ref": "#/$defs/type"
        },
        "default": {
          "description": "Default value (an expression); without it the value must be configured. Example: \"3000\", \"\\\"127.0.0.1\\\"\".",
          "$ref": "#/$defs/expression"
        },
        "expression": {
          "description": "Another name for \"default\", taken with warning W102: write \"default\". Both at once are refused (E114).",
          "deprecated": true,
          "$ref": "#/$defs/expression"
        },
        "description": {
          "description": "Free text describing the configurable. Example: \"TCP port to listen on.\"",
          "type": "string"
        }
      },
      "not": {
        "required": [
          "default",
          "expression"
        ]
      }
    },
    "listener": {
      "description": "A listener. Example: {\"name\": \"tcpListener\", \"kind\": \"tcp\", \"port\": \"port\", \"localHost\": \"host\"}.",
      "type": "object",
      "required": [
        "name",
        "kind",
        "port"
      ],
      "properties": {
        "name": {
          "description": "Listener name, referenced by services. Example: \"tcpListener\".",
          "$ref": "#/$defs/identifier"
        },
        "kind": {
          "description": "Listener kind. Example: \"tcp\".",
          "enum": [
            "tcp"
          ]
        },
        "port": {
          "description": "Port to listen on: an expression of type int (configurables allowed). Example: \"port\", \"3000\".",
          "$ref": "#/$defs/expression"
        },
        "localHost": {
          "description": "Address to bind: an expression of type string; default \"127.0.0.1\". Example: \"host\", \"\\\"0.0.0.0\\\"\".",
          "$ref": "#/$defs/expression"
        },
        "description": {
          "description": "Free text describing the listener. Example: \"Chat port.\"",
          "type": "string"
        },
        "framing": {
          "description": "How onBytes receives data: \"raw\" (the default, as in Ballerina: each chunk as read) or \"line\" (one whole line per event, without its \\n or \\r\\n).",
          "enum": [
            "raw",
            "line"
          ]
        },
        "maxLineLength": {
          "description": "With line framing, the longest line in bytes (default 8192); a longer one gives onError an error and closes the connection. An int (or, for timeouts, float) expression, so it may use configurables.",
          "$ref": "#/$defs/expression",
          "examples": [
            "1024"
          ]
        },
        "maxConnections": {
          "description": "Connections this listener serves at once (default 10000); a client over the cap gets one 'ERR server full' line and is closed. An int (or, for timeouts, float) expression, so it may use configurables.",
          "$ref": "#/$defs/expression",
          "examples": [
            "2000"
          ]
        },
        "maxOutputBytes": {
          "description": "Output queued for one client (default 1048576); a client that does not read is disconnected past it (onError, then onClose). An int (or, for timeouts, float) expression, so it may use configurables.",
          "$ref": "#/$defs/expression",
          "examples": [
            "262144"
          ]
        },
        "idleTimeout": {
          "description": "Seconds without input after which a connection is closed (default 0: off, as in Ballerina). An int (or, for timeouts, float) expression, so it may use configurables.",
          "$ref": "#/$defs/expression",
          "examples": [
            "300"
          ]
        },
        "lineTimeout": {
          "description": "With line framing, seconds an unfinished line may wait for its newline (default 30); then onError and close. An int (or, for timeouts, float) expression, so it may use configurables.",
          "$ref": "#/$defs/expression",
          "examples": [
            "10"
          ]
        },
        "secureSocket": {
          "$ref": "#/$defs/listenerSecureSocket"
        }
      }
    },
    "service": {
      "description": "A service on a listener. Example: {\"listener\": \"tcpListener\", \"onConnect\": {\"parameters\": [{\"name\": \"caller\", \"type\": \"tcp:Caller\"}], \"nodes\": [...]}}.",
      "type": "object",
      "required": [
        "listener",
        "onConnect"
      ],
      "properties": {
        "listener": {
          "description": "Name of the listener the service attaches to. Example: \"tcpListener\".",
          "$ref": "#/$defs/identifier"
        },
        "onConnect": {
          "description": "Handler run for each new connection, parameters (tcp:Caller caller); returns an instance of a flow class, an error, or nothing. Example: {\"parameters\": [{\"name\": \"caller\", \"type\": \"tcp:Caller\"}], \"nodes\": [{\"node\": \"RETURN\", \"expression\": \"new ChatService()\"}]}.",
          "$ref": "#/$defs/function"
        },
        "description": {
          "description": "Free text describing the service. Example: \"Chat service.\"",
          "type": "string"
        }
      }
    },
    "classField": {
      "description": "A field of a service class. Example: {\"name\": \"username\", \"type\": \"string\", \"default\": \"\\\"\\\"\"}.",
      "type": "object",
      "required": [
        "name",
        "type"
      ],
      "properties": {
        "name": {
          "description": "Field name, read and written as self.<name>. Example: \"username\".",
          "$ref": "#/$defs/identifier"
        },
        "type": {
          "description": "Field type. Example: \"string\".",
          "$ref": "#/$defs/type"
        },
        "default": {
          "description": "Initial value (an expression). Example: \"\\\"\\\"\", \"0\".",
          "$ref": "#/$defs/expression"
        },
        "expression": {
          "description": "Another name for \"default\", taken with warning W102: write \"default\". Both at once are refused (E114).",
          "deprecated": true,
          "$ref": "#/$defs/expression"
        },
        "description": {
          "description": "Free text describing the field. Example: \"Name the client chose.\"",
          "type": "string"
        }
      },
      "not": {
        "required": [
          "default",
          "expression"
        ]
      }
    },
    "class": {
      "description": "A service class (one instance per connection). Example: {\"name\": \"ChatService\", \"variables\": [{\"name\": \"username\", \"type\": \"string\", \"default\": \"\\\"\\\"\"}], \"methods\": {\"onBytes\": {...}, \"onClose\": {...}, \"onError\": {...}}}.",
      "type": "object",
      "required": [
        "name"
      ],
      "properties": {
        "name": {
          "description": "Class name, used in `new ChatService()` expressions and as a type. Example: \"ChatService\".",
          "$ref": "#/$defs/identifier"
        },
        "variables": {
          "description": "Fields of the class. Example: [{\"name\": \"username\", \"type\": \"string\", \"default\": \"\\\"\\\"\"}].",
          "type": "array",
          "items": {
            "$ref": "#/$defs/classField"
          }
        },
        "methods": {
          "description": "Connection handlers. Example: {\"onBytes\": {\"parameters\": [...], \"nodes\": [...]}, \"onClose\": {\"nodes\": [...]}}.",
          "type": "object",
          "properties": {
            "onBytes": {
              "description": "Run for each chunk received; parameters (tcp:Caller caller, byte[] data) or (byte[] data); returns byte[] (written back), an error, or nothing. Example: {\"parameters\": [{\"name\": \"caller\", \"type\": \"tcp:Caller\"}, {\"name\": \"data\", \"type\": \"byte[]\"}], \"nodes\": [...]}.",
              "$ref": "#/$defs/function"
            },
            "onClose": {
              "description": "Run when the connection closes; parameters () or (tcp:Caller caller); returns an error or nothing. Example: {\"nodes\": [...]}.",
              "$ref": "#/$defs/function"
            },
            "onError": {
              "description": "Run on a connection error; parameters (error err) or (tcp:Caller caller, error err); tcp:Error is a synonym of error. Example: {\"parameters\": [{\"name\": \"err\", \"type\": \"tcp:Error\"}], \"nodes\": [...]}.",
              "$ref": "#/$defs/function"
            }
          }
        },
        "description": {
          "description": "Free text describing the class. Example: \"Per-connection chat state.\"",
          "type": "string"
        }
      }
    },
    "moduleVariable": {
      "description": "A module-level variable. Example: {\"name\": \"users\", \"type\": \"string[]\", \"expression\": \"[]\"}.",
      "type": "object",
      "required": [
        "name",
        "type"
      ],
      "properties": {
        "name": {
          "description": "Variable name. Example: \"users\".",
          "$ref": "#/$defs/identifier"
        },
        "type": {
          "description": "Variable type. Example: \"string[]\", \"map<string>\".",
          "$ref": "#/$defs/type"
        },
        "expression": {
          "description": "Initial value. Example: \"[]\", \"{}\", \"0\".",
          "$ref": "#/$defs/expression"
        },
        "default": {
          "description": "Another name for \"expression\", taken with warning W102: write \"expression\". Both at once are refused (E114).",
          "deprecated": true,
          "$ref": "#/$defs/expression"
        },
        "description": {
          "description": "Free text describing the variable. Example: \"Connected users.\"",
          "type": "string"
        }
      },
      "oneOf": [
        {
          "required": [
            "expression"
          ]
        },
        {
          "required": [
            "default"
          ]
        }
      ]
    },
    "callArgs": {
      "description": "Arguments by parameter name: parameter name -> expression. Example: {\"msg\": \"\\\"hello\\\"\", \"error\": \"err\"}.",
      "type": "object",
      "additionalProperties": {
        "$ref": "#/$defs/expression"
      }
    },
    "stringList": {
      "description": "A list of strings: a JSON array of plain strings, or an expression of type string[] (so configurables may be used).",
      "oneOf": [
        {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        {
          "$ref": "#/$defs/expression"
        }
      ]
    },
    "tlsProtocol": {
      "description": "TLS protocol options (Ballerina `protocol: {name: tcp:TLS, versions: [...]}`). Example: {\"name\": \"TLS\", \"versions\": [\"TLSv1.2\", \"TLSv1.3\"]}.",
      "type": "object",
      "properties": {
        "name": {
          "description": "Protocol name: \"TLS\" (SSL is not supported).",
          "enum": [
            "TLS"
          ]
        },
        "versions": {
          "description": "Allowed versions, among \"TLSv1.2\" and \"TLSv1.3\" (default: both). Older versions are refused: OpenSSL 3 does not negotiate them.",
          "$ref": "#/$defs/stringList",
          "examples": [
            [
              "TLSv1.3"
            ],
            [
              "TLSv1.2",
              "TLSv1.3"
            ]
          ]
        }
      }
    },
    "listenerSecureSocket": {
      "description": "TLS for the listener (Ballerina ListenerSecureSocket). Each value is an expression (configurables allowed), except the lists, which may also be JSON arrays. Example: {\"key\": {\"certFile\": \"certFile\", \"keyFile\": \"keyFile\"}}.",
      "type": "object",
      "required": [
        "key"
      ],
      "properties": {
        "key": {
          "description": "The server certificate and private key (Ballerina CertKey), PEM files.",
          "type": "object",
          "required": [
            "certFile",
            "keyFile"
          ],
          "properties": {
            "certFile": {
              "description": "Path of the PEM certificate (chain), an expression of type string. Example: \"certFile\", \"\\\"/etc/flowd/cert.pem\\\"\".",
              "$ref": "#/$defs/expression",
              "examples": [
                "certFile"
              ]
            },
            "keyFile": {
              "description": "Path of the PEM private key (PKCS#8 or traditional), an expression of type string. Example: \"keyFile\".",
              "$ref": "#/$defs/expression",
              "examples": [
                "keyFile"
              ]
            },
            "keyPassword": {
              "description": "Password of an encrypted private key, an expression of type string. Example: \"keyPassword\".",
              "$ref": "#/$defs/expression",
              "examples": [
                "keyPassword"
              ]
            }
          }
        },
        "protocol": {
          "$ref": "#/$defs/tlsProtocol"
        },
        "ciphers": {
          "description": "Allowed cipher suites by IANA name (\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\", \"TLS_AES_256_GCM_SHA384\") or OpenSSL name; default: OpenSSL's secure defaults.",
          "$ref": "#/$defs/stringList"
        },
        "handshakeTimeout": {
          "description": "Seconds a client has to complete the TLS handshake (default 10.0); a float expression.",
          "$ref": "#/$defs/expression",
          "examples": [
            "10.0"
          ]
        },
        "sessionTimeout": {
          "description": "Seconds a TLS session may be resumed (default 300.0); a float expression.",
          "$ref": "#/$defs/expression",
          "examples": [
            "300.0"
          ]
        },
        "description": {
          "type": "string"
        }
      }
    },
    "clientSecureSocket": {
      "description": "TLS for a tcp:Client (Ballerina ClientSecureSocket). Example: {\"cert\": \"caFile\"}.",
      "type": "object",
      "properties": {
        "enable": {
          "description": "Use TLS (default true): JSON true/false or a boolean expression.",
          "oneOf": [
            {
              "type": "boolean"
            },
            {
              "$ref": "#/$defs/expression"
            }
          ]
        },
        "cert": {
          "description": "Path of the PEM certificate to trust (a CA or the server's own); default: the system's trusted roots. An expression of type string.",
          "$ref": "#/$defs/expression",
          "examples": [
            "caFile"
          ]
        },
        "protocol": {
          "$ref": "#/$defs/tlsProtocol"
        },
        "ciphers": {
          "description": "Allowed cipher suites (as for the listener).",
          "$ref": "#/$defs/stringList"
        },
        "handshakeTimeout": {
          "description": "Seconds to complete the handshake (default 10.0).",
          "$ref": "#/$defs/expression",
          "examples": [
            "10.0"
          ]
        },
        "sessionTimeout": {
          "description": "Seconds a TLS session may be resumed.",
          "$ref": "#/$defs/expression",
          "examples": [
            "300.0"
          ]
        },
        "verifyHostName": {
          "description": "Check that the certificate names remoteHost (default true).",
          "oneOf": [
            {
              "type": "boolean"
            },
            {
              "$ref": "#/$defs/expression"
            }
          ]
        }
      }
    },
    "connection": {
      "description": "A module-level client connection (BI's NEW_CONNECTION in \"connections\"): `final tcp:Client backend = check new (host, port);`. Connected at start; if it cannot connect, flowd does not serve. Example: {\"name\": \"backend\", \"node\": \"NEW_CONNECTION\", \"type\": \"tcp:Client\", \"remoteHost\": \"backendHost\", \"remotePort\": \"backendPort\"}.",
      "type": "object",
      "required": [
        "name",
        "remoteHost",
        "remotePort"
      ],
      "properties": {
        "name": {
          "description": "The name handlers use. Example: \"backend\".",
          "$ref": "#/$defs/identifier"
        },
        "node": {
          "const": "NEW_CONNECTION"
        },
        "type": {
          "const": "tcp:Client"
        },
        "id": {
          "type": "string"
        },
        "label": {
          "type": "string"
        },
        "description": {
          "type": "string"
        },
        "remoteHost": {
          "description": "Host to connect to, an expression of type string. Example: \"upstreamHost\".",
          "$ref": "#/$defs/expression",
          "examples": [
            "upstreamHost"
          ]
        },
        "remotePort": {
          "description": "Port to connect to, an expression of type int. Example: \"upstreamPort\".",
          "$ref": "#/$defs/expression",
          "examples": [
            "upstreamPort"
          ]
        },
        "timeout": {
          "description": "Seconds to wait for the connection, and for each readBytes (default 300.0, as in Ballerina); a float expression.",
          "$ref": "#/$defs/expression",
          "examples": [
            "5.0"
          ]
        },
        "writeTimeout": {
          "description": "Seconds a writeBytes may wait for the server to take its bytes (default 300.0); a float expression.",
          "$ref": "#/$defs/expression",
          "examples": [
            "5.0"
          ]
        },
        "secureSocket": {
          "$ref": "#/$defs/clientSecureSocket"
        }
      }
    }
  }
}
)json";

}  // namespace flowd
