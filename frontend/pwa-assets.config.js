// The installed app's icons (PNG, from public/icon.svg): `npm run icons` writes them beside it,
// in public/, and they are kept in the repository. The preset is the platforms' current set:
// 64, 192 and 512 px, a maskable 512 px (the mark inside the safe zone) and Apple's 180 px.
import { defineConfig, minimal2023Preset } from '@vite-pwa/assets-generator/config';

export default defineConfig({
  headLinkOptions: { preset: '2023' },
  preset: {
    ...minimal2023Preset,
    maskable: { ...minimal2023Preset.maskable, resizeOptions: { background: '#0f172a' } },
    apple: { ...minimal2023Preset.apple, resizeOptions: { background: '#0f172a' } },
  },
  images: ['public/icon.svg'],
});
