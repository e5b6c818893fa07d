/** Hugging Face tokenizers and chat templates, loaded from a local folder or the Hub. */
export { HfTokenizer, loadHfTokenizer, type ChatMessage, type RenderChatOptions, type HfTokenizerOptions } from './hf-tokenizer.js';
export { downloadHfTokenizer, loadHfTokenizerFromHub, HubDownloadError, type HubDownloadOptions } from './hub.js';
