// Options of `lightglm corpus build` / CorpusBuilder.Build, and the paths of the files it writes.
namespace LightGlm.Text.Corpus;

public sealed record CorpusOptions
{
    /// <summary>Pinned package list; default data/debian-catalogs.txt in the repository.</summary>
    public string? PackageList { get; init; }

    /// <summary>Cache of .debs, extracted catalogs and rendered manual pages; default $LIGHTGLM_CACHE or .cache/lightglm.</summary>
    public string? CacheDir { get; init; }

    /// <summary>Only these packages of the list (null or empty = the whole list); a name the list lacks is an error.</summary>
    public IReadOnlyList<string>? Packages { get; init; }

    /// <summary>
    /// Packages held out of train/dev/test: their pairs go to unseen.tsv (minus any whose English is in train), the
    /// honest measure of generalisation to software the model never saw. Also the only place a libreoffice-* package may go.
    /// </summary>
    public IReadOnlyList<string> Holdout { get; init; } = [];

    /// <summary>Where the corpus files go; default {cache}/corpus.</summary>
    public string? OutputDir { get; init; }

    /// <summary>Read catalogs already installed under this folder (e.g. /usr/share/locale) instead of fetching packages.</summary>
    public string? FromDir { get; init; }

    /// <summary>Take the archive's current version when a pinned one is gone (recorded in stats.json).</summary>
    public bool AllowNewer { get; init; }

    public SplitRatios Ratios { get; init; } = SplitRatios.Default;

    /// <summary>Also write mono.en.txt / mono.zh.txt from manual pages.</summary>
    public bool Monolingual { get; init; } = true;

    /// <summary>At most this many manual pages per language (null = all).</summary>
    public int? MaxManpages { get; init; }

    /// <summary>The Debian package with the Chinese manual pages, "name=version" ("name" alone takes the current version).</summary>
    public string ChineseManpages { get; init; } = "manpages-zh=1.6.4.0-1";

    public Action<string>? Log { get; init; }

    public string ResolvedCacheDir => Path.GetFullPath(CacheDir ?? RepoPaths.CacheDir);
    public string ResolvedOutputDir => Path.GetFullPath(OutputDir ?? Path.Combine(ResolvedCacheDir, "corpus"));
    public string ResolvedPackageList => Path.GetFullPath(PackageList ?? RepoPaths.DefaultPackageList);
}

/// <summary>The files of a built corpus.</summary>
public sealed record CorpusPaths(string Dir)
{
    public string Train => Path.Combine(Dir, "train.tsv");
    public string Dev => Path.Combine(Dir, "dev.tsv");
    public string Test => Path.Combine(Dir, "test.tsv");
    /// <summary>Pairs of the held-out packages (same format as test.tsv; empty without a holdout).</summary>
    public string Unseen => Path.Combine(Dir, "unseen.tsv");
    /// <summary>Every pair of the held-out packages, also those whose English is in train (translation-memory studies).</summary>
    public string UnseenAll => Path.Combine(Dir, "unseen-all.tsv");
    public string Stats => Path.Combine(Dir, "stats.json");
    public string Glossary => Path.Combine(Dir, "glossary.tsv");
    public string MonoEnglish => Path.Combine(Dir, "mono.en.txt");
    public string MonoChinese => Path.Combine(Dir, "mono.zh.txt");

    /// <summary>The corpus at the default location ({cache}/corpus).</summary>
    public static CorpusPaths Default => new(RepoPaths.DefaultCorpusDir);

    /// <summary>True when train/dev/test exist.</summary>
    public bool Exists => File.Exists(Train) && File.Exists(Dev) && File.Exists(Test);
}
