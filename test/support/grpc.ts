/**
 * Real gRPC servers for tests (grpc-js on 127.0.0.1, port 0): the Echo service of
 * test/fixtures/echo.proto (Say, Chat, Count, Collect, Fail) and, beside it, methods at any path answering raw
 * bytes with a chosen status — `/AWS.ALB/healthcheck`, the path ALB's gRPC checks call.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { KeyPair } from './s-client.ts';

export const ECHO_PROTO = fileURLToPath(new URL('../fixtures/echo.proto', import.meta.url));

export interface EchoRequest {
  readonly text?: string;
  readonly code?: number;
}
export interface EchoResponse {
  readonly text: string;
}

/** The loaded `localelb.test` package: `Echo` is the client constructor, `Echo.service` the definition. */
export function loadEcho(): { Echo: grpc.ServiceClientConstructor } {
  const definition = protoLoader.loadSync(ECHO_PROTO, { keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { localelb: { test: { Echo: grpc.ServiceClientConstructor } } };
  return pkg.localelb.test;
}

/** Say echoes, Chat answers each message, Count streams `code` answers, Collect joins what it got, Fail fails with the request's code and text. */
export const echoImplementation: grpc.UntypedServiceImplementation = {
  Say: (call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) => callback(null, { text: call.request.text ?? '' }),
  Chat: (call: grpc.ServerDuplexStream<EchoRequest, EchoResponse>) => {
    call.on('data', (req: EchoRequest) => call.write({ text: req.text ?? '' }));
    call.on('end', () => call.end());
  },
  Count: (call: grpc.ServerWritableStream<EchoRequest, EchoResponse>) => {
    for (let i = 1; i <= (call.request.code ?? 0); i++) call.write({ text: `${call.request.text ?? ''} ${i}` });
    call.end();
  },
  Collect: (call: grpc.ServerReadableStream<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) => {
    const texts: string[] = [];
    call.on('data', (req: EchoRequest) => texts.push(req.text ?? ''));
    call.on('end', () => callback(null, { text: texts.join(' ') }));
  },
  Fail: (call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) =>
    callback({ code: call.request.code ?? grpc.status.UNKNOWN, details: call.request.text ?? 'failed' }),
};

/** What a raw method answers: a status (0 = OK with an empty message), or nothing ever. */
export type RawAnswer = { readonly code: grpc.status; readonly details?: string } | 'hang';

/** One call a raw method received. */
export interface RawCall {
  readonly path: string;
  readonly metadata: Record<string, grpc.MetadataValue>;
  readonly message: Buffer;
}

export interface GrpcTarget {
  readonly port: number;
  /** Calls to the raw methods, in order. */
  readonly calls: RawCall[];
  /** Changes what the raw method at `path` answers from now on. */
  answer(path: string, answer: RawAnswer): void;
  close(): Promise<void>;
}

export interface GrpcTargetOptions {
  /** TLS (`ServerCredentials.createSsl`, no client certificates); insecure without it. */
  readonly tls?: KeyPair;
  /** Raw methods by path, beside the Echo service. */
  readonly methods?: Readonly<Record<string, RawAnswer>>;
}

const identity = (b: Buffer) => b;

export async function startGrpcTarget(options: GrpcTargetOptions = {}): Promise<GrpcTarget> {
  const server = new grpc.Server();
  server.addService(loadEcho().Echo.service, echoImplementation);
  const answers = new Map(Object.entries(options.methods ?? {}));
  const calls: RawCall[] = [];
  if (answers.size > 0) {
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    [...answers.keys()].forEach((path, i) => {
      const name = `raw${i}`;
      definition[name] = { path, requestStream: false, responseStream: false, originalName: name, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
      implementation[name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        calls.push({ path, metadata: call.metadata.getMap(), message: call.request });
        const answer = answers.get(path)!;
        if (answer === 'hang') return;
        if (answer.code === grpc.status.OK) callback(null, Buffer.alloc(0));
        else callback({ code: answer.code, details: answer.details ?? grpc.status[answer.code] });
      };
    });
    server.addService(definition, implementation);
  }
  const credentials = options.tls ? grpc.ServerCredentials.createSsl(null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }], false) : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))));
  return {
    port,
    calls,
    answer: (path, answer) => {
      if (!answers.has(path)) throw new Error(`no raw method at ${path}; this server has ${[...answers.keys()].join(', ') || 'none'}`);
      answers.set(path, answer);
    },
    close: () => new Promise<void>((resolve) => {
      server.forceShutdown();
      resolve();
    }),
  };
}
