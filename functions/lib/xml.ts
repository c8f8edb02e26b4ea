/**
 * XmlElement is one element of a parsed XML document: its name (the prefix, if any, dropped),
 * its child elements in order, and its text (the concatenated character data directly inside it).
 */
export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  text: string;
}

/** XmlParseError says a document is not the well-formed XML an AWS Query API answers with. */
export class XmlParseError extends Error {
  override readonly name = 'XmlParseError';
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** decodeEntities resolves XML's five named entities and numeric character references. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return entities[ref] ?? whole;
  });
}

/**
 * parseXml reads the XML of an AWS Query API response (EC2's DescribeInstances, its error
 * document) into a tree of elements: declarations, comments and attributes (EC2 sends only
 * `xmlns`) are skipped, CDATA is text. It is not a general XML parser (no DTDs, no
 * namespaces beyond dropping prefixes), and throws XmlParseError on what it cannot read.
 */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const open: XmlElement[] = [root];
  let at = 0;
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const top = open[open.length - 1]!;
    if (lt < 0) {
      top.text += decodeEntities(xml.slice(at));
      break;
    }
    if (lt > at) top.text += decodeEntities(xml.slice(at, lt));
    if (xml.startsWith('<?', lt)) at = end(xml, '?>', lt);
    else if (xml.startsWith('<!--', lt)) at = end(xml, '-->', lt);
    else if (xml.startsWith('<![CDATA[', lt)) {
      const close = end(xml, ']]>', lt);
      top.text += xml.slice(lt + 9, close - 3);
      at = close;
    } else if (xml.startsWith('<!', lt)) at = end(xml, '>', lt);
    else if (xml.startsWith('</', lt)) {
      const close = end(xml, '>', lt);
      const name = localName(xml.slice(lt + 2, close - 1).trim());
      if (open.length < 2 || top.name !== name) throw new XmlParseError(`unexpected closing tag </${name}>`);
      open.pop();
      at = close;
    } else {
      const close = end(xml, '>', lt);
      const tag = xml.slice(lt + 1, close - 1);
      const selfClosing = tag.endsWith('/');
      const name = localName(/^[^\s/>]+/.exec(tag)?.[0] ?? '');
      if (!name) throw new XmlParseError(`an element without a name at ${lt}`);
      const element: XmlElement = { name, children: [], text: '' };
      top.children.push(element);
      if (!selfClosing) open.push(element);
      at = close;
    }
  }
  if (open.length !== 1) throw new XmlParseError(`unclosed element <${open[open.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new XmlParseError('a document must have one root element');
  return root.children[0]!;
}

function end(xml: string, token: string, from: number): number {
  const found = xml.indexOf(token, from);
  if (found < 0) throw new XmlParseError(`unterminated markup at ${from}`);
  return found + token.length;
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

/** child is an element's first child of that name. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** childrenNamed are an element's children of that name (the `item`s of an EC2 list). */
export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((c) => c.name === name) ?? [];
}

/** textOf is the text of an element's first child of that name, or undefined when there is none. */
export function textOf(element: XmlElement | undefined, name: string): string | undefined {
  return child(element, name)?.text;
}
