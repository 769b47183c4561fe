import t from 'tap'
import type { WebsiteConfiguration } from '../../lib/index.js'
import { parseWebsiteConfiguration, websiteConfigurationXml } from '../../lib/s3/website-xml.js'
import { checkWebsiteConfiguration } from '../../lib/website.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

t.test('a full configuration parses, and its GetBucketWebsite body parses back to the same', async t => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<WebsiteConfiguration xmlns="${NS}">
  <IndexDocument><Suffix>index.html</Suffix></IndexDocument>
  <ErrorDocument><Key> errors/4&amp;4.html</Key></ErrorDocument>
  <RoutingRules>
    <RoutingRule>
      <Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>
      <Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect>
    </RoutingRule>
    <RoutingRule>
      <Condition><HttpErrorCodeReturnedEquals> 404 </HttpErrorCodeReturnedEquals><KeyPrefixEquals>img/</KeyPrefixEquals></Condition>
      <Redirect><Protocol>https</Protocol><HostName> cdn.example.com </HostName><HttpRedirectCode>302</HttpRedirectCode><ReplaceKeyWith>x.png</ReplaceKeyWith></Redirect>
    </RoutingRule>
    <RoutingRule><Redirect><HostName>example.org</HostName></Redirect></RoutingRule>
  </RoutingRules>
</WebsiteConfiguration>`
  const expected: WebsiteConfiguration = {
    indexDocument: { suffix: 'index.html' },
    errorDocument: { key: ' errors/4&4.html' },
    routingRules: [
      { condition: { keyPrefixEquals: 'docs/' }, redirect: { replaceKeyPrefixWith: 'documents/' } },
      { condition: { keyPrefixEquals: 'img/', httpErrorCodeReturnedEquals: 404 }, redirect: { hostName: 'cdn.example.com', protocol: 'https', httpRedirectCode: 302, replaceKeyWith: 'x.png' } },
      { redirect: { hostName: 'example.org' } }
    ]
  }
  const config = parseWebsiteConfiguration(xml)
  t.same(config, expected, 'entities decoded, host and codes trimmed, keys kept as sent')
  t.same(checkWebsiteConfiguration(config, 'b'), expected, 'and the engine accepts it')
  const body = websiteConfigurationXml(config)
  t.ok(body.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<WebsiteConfiguration xmlns="${NS}"><IndexDocument><Suffix>index.html</Suffix></IndexDocument><ErrorDocument><Key> errors/4&amp;4.html</Key></ErrorDocument><RoutingRules><RoutingRule>`))
  t.match(body, '<Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals><KeyPrefixEquals>img/</KeyPrefixEquals></Condition>', 'elements in S3\'s order')
  t.match(body, '<Redirect><HostName>cdn.example.com</HostName><HttpRedirectCode>302</HttpRedirectCode><Protocol>https</Protocol><ReplaceKeyWith>x.png</ReplaceKeyWith></Redirect>')
  t.match(body, '<RoutingRule><Redirect><HostName>example.org</HostName></Redirect></RoutingRule>', 'no Condition element for a rule without one')
  t.same(parseWebsiteConfiguration(body), expected, 'round trip')
})

t.test('RedirectAllRequestsTo alone, namespace prefixes, empty RoutingRules', async t => {
  const all = parseWebsiteConfiguration(`<s3:WebsiteConfiguration xmlns:s3="${NS}"><s3:RedirectAllRequestsTo><s3:HostName>example.com</s3:HostName><s3:Protocol>https</s3:Protocol></s3:RedirectAllRequestsTo></s3:WebsiteConfiguration>`)
  t.same(all, { redirectAllRequestsTo: { hostName: 'example.com', protocol: 'https' } })
  t.equal(websiteConfigurationXml(all), `<?xml version="1.0" encoding="UTF-8"?>\n<WebsiteConfiguration xmlns="${NS}"><RedirectAllRequestsTo><HostName>example.com</HostName><Protocol>https</Protocol></RedirectAllRequestsTo></WebsiteConfiguration>`)
  t.same(parseWebsiteConfiguration('<WebsiteConfiguration><IndexDocument><Suffix>i</Suffix></IndexDocument><RoutingRules/></WebsiteConfiguration>'), { indexDocument: { suffix: 'i' } })
  t.same(parseWebsiteConfiguration('<WebsiteConfiguration><IndexDocument><Suffix/></IndexDocument></WebsiteConfiguration>'), { indexDocument: { suffix: '' } }, 'an empty suffix parses: the engine refuses it with InvalidArgument, as S3')
  t.same(parseWebsiteConfiguration('<WebsiteConfiguration><IndexDocument><Suffix>i</Suffix></IndexDocument><RoutingRules><RoutingRule><Redirect><Protocol>ftp</Protocol><HttpRedirectCode>300</HttpRedirectCode></Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>').routingRules,
    [{ redirect: { protocol: 'ftp', httpRedirectCode: 300 } }], 'values are the engine\'s to check')
})

t.test('bad documents are MalformedXML', async t => {
  const index = '<IndexDocument><Suffix>i</Suffix></IndexDocument>'
  const rules = (inner: string): string => `<WebsiteConfiguration>${index}<RoutingRules>${inner}</RoutingRules></WebsiteConfiguration>`
  const cases: Array<[string, string]> = [
    ['not XML', 'website please'],
    ['empty body', ''],
    ['another root', `<CORSConfiguration>${index}</CORSConfiguration>`],
    ['an empty configuration', '<WebsiteConfiguration/>'],
    ['an error document alone', '<WebsiteConfiguration><ErrorDocument><Key>e</Key></ErrorDocument></WebsiteConfiguration>'],
    ['an unknown element', `<WebsiteConfiguration>${index}<IndexDocuments/></WebsiteConfiguration>`],
    ['an unknown element in IndexDocument', '<WebsiteConfiguration><IndexDocument><Suffix>i</Suffix><Key>k</Key></IndexDocument></WebsiteConfiguration>'],
    ['two index documents', `<WebsiteConfiguration>${index}${index}</WebsiteConfiguration>`],
    ['two suffixes', '<WebsiteConfiguration><IndexDocument><Suffix>i</Suffix><Suffix>j</Suffix></IndexDocument></WebsiteConfiguration>'],
    ['an element inside the suffix', '<WebsiteConfiguration><IndexDocument><Suffix><b>i</b></Suffix></IndexDocument></WebsiteConfiguration>'],
    ['text in the root', `<WebsiteConfiguration>${index}hello</WebsiteConfiguration>`],
    ['redirect-all beside an index', `<WebsiteConfiguration><RedirectAllRequestsTo><HostName>h</HostName></RedirectAllRequestsTo>${index}</WebsiteConfiguration>`],
    ['redirect-all without a host', '<WebsiteConfiguration><RedirectAllRequestsTo><Protocol>https</Protocol></RedirectAllRequestsTo></WebsiteConfiguration>'],
    ['redirect-all with an empty host', '<WebsiteConfiguration><RedirectAllRequestsTo><HostName> </HostName></RedirectAllRequestsTo></WebsiteConfiguration>'],
    ['a rule without redirect', rules('<RoutingRule><Condition><KeyPrefixEquals>a</KeyPrefixEquals></Condition></RoutingRule>')],
    ['an empty redirect', rules('<RoutingRule><Redirect/></RoutingRule>')],
    ['an empty condition', rules('<RoutingRule><Condition/><Redirect><HostName>h</HostName></Redirect></RoutingRule>')],
    ['two redirects', rules('<RoutingRule><Redirect><HostName>h</HostName></Redirect><Redirect><HostName>h</HostName></Redirect></RoutingRule>')],
    ['a code that is no number', rules('<RoutingRule><Redirect><HttpRedirectCode>moved</HttpRedirectCode></Redirect></RoutingRule>')],
    ['an error code that is no number', rules('<RoutingRule><Condition><HttpErrorCodeReturnedEquals>4o4</HttpErrorCodeReturnedEquals></Condition><Redirect><HostName>h</HostName></Redirect></RoutingRule>')],
    ['something else in RoutingRules', rules('<Rule/>')],
    ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY a "b">]><WebsiteConfiguration>${index}</WebsiteConfiguration>`]
  ]
  for (const [name, xml] of cases) {
    t.throws(() => parseWebsiteConfiguration(xml), { name: 'S3Error', code: 'MalformedXML' }, name)
  }
})
