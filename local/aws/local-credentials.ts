/** The emulators do not check signatures, but the SDK insists on signing, and a static pair will do. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';
