/** Where models come from by default: the public Hub at its main branch (`?hub=<url>` picks a mirror). */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';
