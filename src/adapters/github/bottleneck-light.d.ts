// plugin-throttling imports Bottleneck's light build, which ships no types of its own; it is the
// same class as the typed main entry.
declare module "bottleneck/light.js" {
  import Bottleneck from "bottleneck";
  export default Bottleneck;
}
