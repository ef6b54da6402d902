/**
 * The ELBv2 API's errors (spec 14.2.3, 14.2.5, 14.5): AWS's own codes, which both SDKs map to
 * their exception classes (SDK v3 `err.name` is `<Code>Exception` for modelled ones, the code
 * itself for the common ones), with AWS's HTTP statuses. Only src/elbv2/server.ts turns them
 * into an `ErrorResponse`.
 */

/** Every code this endpoint answers, with its HTTP status and fault (spec 14.2.5, 14.5). */
export const API_ERRORS = {
  // Common errors of every Query API (not in the ELBv2 model).
  ValidationError: 400,
  MissingAction: 400,
  InvalidAction: 400,
  MalformedQueryString: 404,
  InternalFailure: 500,
  // The ELBv2 model's errors used by the emulated actions: all 400, Sender.
  ALPNPolicyNotFound: 400,
  CertificateNotFound: 400,
  DuplicateListener: 400,
  DuplicateLoadBalancerName: 400,
  DuplicateTagKeys: 400,
  DuplicateTargetGroupName: 400,
  IncompatibleProtocols: 400,
  InvalidConfigurationRequest: 400,
  InvalidLoadBalancerAction: 400,
  InvalidScheme: 400,
  InvalidSecurityGroup: 400,
  InvalidSubnet: 400,
  InvalidTarget: 400,
  ListenerNotFound: 400,
  LoadBalancerNotFound: 400,
  OperationNotPermitted: 400,
  PriorityInUse: 400,
  ResourceInUse: 400,
  RuleNotFound: 400,
  SSLPolicyNotFound: 400,
  SubnetNotFound: 400,
  TargetGroupAssociationLimit: 400,
  TargetGroupNotFound: 400,
  TooManyActions: 400,
  TooManyCertificates: 400,
  TooManyListeners: 400,
  TooManyLoadBalancers: 400,
  TooManyRules: 400,
  TooManyTags: 400,
  TooManyTargetGroups: 400,
  TooManyTargets: 400,
  TooManyUniqueTargetGroupsPerLoadBalancer: 400,
  UnsupportedProtocol: 400,
  // Trust stores (spec 12.1.7).
  CaCertificatesBundleNotFound: 400,
  DuplicateTrustStoreName: 400,
  InvalidCaCertificatesBundle: 400,
  InvalidRevocationContent: 400,
  RevocationContentNotFound: 400,
  RevocationIdNotFound: 400,
  TooManyTrustStoreRevocationEntries: 400,
  TooManyTrustStores: 400,
  TrustStoreInUse: 400,
  TrustStoreNotFound: 400,
  TrustStoreNotReady: 400,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** One refused call: its AWS code, message, status and whether the caller (Sender) or the service (Receiver) is at fault. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
  }

  get status(): number {
    return API_ERRORS[this.code];
  }

  get fault(): 'Sender' | 'Receiver' {
    return this.status >= 500 ? 'Receiver' : 'Sender';
  }
}
