// sacreBLEU 2.x TercomTokenizer (tokenizer_ter.py): lowercasing, the "normalized" western rules and
// the asian_support splitting on its own Unicode ranges (which differ from the zh BLEU tokenizer's).
using System.Text.RegularExpressions;

namespace LightGlm.Evaluation.Metrics;

/// <summary>Tokenizer used by TER. Returns a space-joined string; TER splits it on whitespace.</summary>
public sealed class TercomTokenizer(bool normalized = false, bool noPunct = false, bool asianSupport = false, bool caseSensitive = false)
{
    const RegexOptions Opt = RegexOptions.CultureInvariant;
    static readonly Regex Punct = new(@"([\x7B-\x7E\x5B-\x60\x20-\x26\x28-\x2B\x3A-\x40\x2F])", Opt);
    static readonly Regex PossessiveMid = new(@"'s ", Opt);
    static readonly Regex PossessiveEnd = new(@"'s$", Opt); // .NET and Python '$': end, or before a final \n
    static readonly Regex PeriodCommaAfterNonDigit = new(@"([^0-9])([\.,])", Opt);
    static readonly Regex PeriodCommaBeforeNonDigit = new(@"([\.,])([^0-9])", Opt);
    static readonly Regex DashAfterDigit = new(@"([0-9])(-)", Opt);

    static readonly Regex CjkUnified = new(@"([\u4e00-\u9fff\u3400-\u4dbf])", Opt);
    static readonly Regex CjkStrokesRadicals = new(@"([\u31c0-\u31ef\u2e80-\u2eff])", Opt);
    static readonly Regex CjkCompat = new(@"([\u3300-\u33ff\uf900-\ufaff\ufe30-\ufe4f])", Opt);
    static readonly Regex CjkEnclosed = new(@"([\u3200-\u3f22])", Opt);
    // Kana rules as in the source; anchored at '^', so after the western padding they never fire.
    static readonly Regex Hiragana = new(@"(^|^[\u3040-\u309f])([\u3040-\u309f]+)(?=$|^[\u3040-\u309f])", Opt);
    static readonly Regex Katakana = new(@"(^|^[\u30a0-\u30ff])([\u30a0-\u30ff]+)(?=$|^[\u30a0-\u30ff])", Opt);
    static readonly Regex KatakanaExt = new(@"(^|^[\u31f0-\u31ff])([\u31f0-\u31ff]+)(?=$|^[\u31f0-\u31ff])", Opt);
    static readonly Regex AsianPunct = new(@"([\u3001\u3002\u3008-\u3011\u3014-\u301f\uff61-\uff65\u30fb])", Opt);
    static readonly Regex FullWidthPunct = new(@"([\uff0e\uff0c\uff1f\uff1a\uff1b\uff01\uff02\uff08\uff09])", Opt);
    static readonly Regex RemovePunctRe = new(@"[\.,\?:;!""\(\)]", Opt);

    public bool Normalized => normalized;
    public bool NoPunct => noPunct;
    public bool AsianSupport => asianSupport;
    public bool CaseSensitive => caseSensitive;

    public string Tokenize(string sent)
    {
        if (sent.Length == 0) return "";
        if (!caseSensitive) sent = PyText.Lower(sent);
        if (normalized)
        {
            sent = NormalizeGeneralAndWestern(sent);
            if (asianSupport) sent = NormalizeAsian(sent);
        }
        if (noPunct)
        {
            sent = RemovePunctRe.Replace(sent, "");
            if (asianSupport) sent = FullWidthPunct.Replace(AsianPunct.Replace(sent, ""), "");
        }
        return string.Join(' ', PyText.Split(sent)); // 2.x strips extra whitespace in every mode
    }

    static string NormalizeGeneralAndWestern(string sent)
    {
        sent = sent.Replace("\n-", "").Replace("\n", " ");
        sent = sent.Replace("&quot;", "\"").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");
        sent = " " + sent + " ";
        sent = Punct.Replace(sent, " $1 ");
        sent = PossessiveMid.Replace(sent, " 's ");
        sent = PossessiveEnd.Replace(sent, " 's");
        sent = PeriodCommaAfterNonDigit.Replace(sent, "$1 $2 ");
        sent = PeriodCommaBeforeNonDigit.Replace(sent, " $1 $2");
        sent = DashAfterDigit.Replace(sent, "$1 $2 ");
        return sent;
    }

    static string NormalizeAsian(string sent)
    {
        sent = CjkUnified.Replace(sent, " $1 ");
        sent = CjkStrokesRadicals.Replace(sent, " $1 ");
        sent = CjkCompat.Replace(sent, " $1 ");
        sent = CjkEnclosed.Replace(sent, " $1 ");
        sent = Hiragana.Replace(sent, "$1 $2 ");
        sent = Katakana.Replace(sent, "$1 $2 ");
        sent = KatakanaExt.Replace(sent, "$1 $2 ");
        sent = AsianPunct.Replace(sent, " $1 ");
        sent = FullWidthPunct.Replace(sent, " $1 ");
        return sent;
    }
}
