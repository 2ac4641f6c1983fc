// The package ships an emscripten factory without type declarations; vad.ts narrows the module it returns.
declare module '@echogarden/fvad-wasm' {
  const factory: () => Promise<unknown>;
  export default factory;
}
