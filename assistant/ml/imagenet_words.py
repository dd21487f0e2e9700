"""ImageNet-1k classes as plain words an artist would use, in the standard class-index order.

Generated once from torchvision's category names (rules for the big groups: the 118 dog breeds, cats,
snakes, spiders, parrots ...; hand-written words for the rest), then read through by a person. Each line
carries the original ImageNet name so a wrong word is easy to spot. Edit this table, not a generator.
"""

WORDS: tuple[str, ...] = (
    "fish",  # 0 tench
    "goldfish",  # 1 goldfish
    "shark",  # 2 great white shark
    "shark",  # 3 tiger shark
    "shark",  # 4 hammerhead
    "ray",  # 5 electric ray
    "ray",  # 6 stingray
    "rooster",  # 7 cock
    "hen",  # 8 hen
    "ostrich",  # 9 ostrich
    "finch",  # 10 brambling
    "finch",  # 11 goldfinch
    "finch",  # 12 house finch
    "bird",  # 13 junco
    "bird",  # 14 indigo bunting
    "robin",  # 15 robin
    "bird",  # 16 bulbul
    "jay",  # 17 jay
    "magpie",  # 18 magpie
    "bird",  # 19 chickadee
    "bird",  # 20 water ouzel
    "bird of prey",  # 21 kite
    "eagle",  # 22 bald eagle
    "vulture",  # 23 vulture
    "owl",  # 24 great grey owl
    "salamander",  # 25 European fire salamander
    "newt",  # 26 common newt
    "newt",  # 27 eft
    "salamander",  # 28 spotted salamander
    "axolotl",  # 29 axolotl
    "frog",  # 30 bullfrog
    "frog",  # 31 tree frog
    "frog",  # 32 tailed frog
    "sea turtle",  # 33 loggerhead
    "sea turtle",  # 34 leatherback turtle
    "turtle",  # 35 mud turtle
    "turtle",  # 36 terrapin
    "turtle",  # 37 box turtle
    "gecko",  # 38 banded gecko
    "iguana",  # 39 common iguana
    "lizard",  # 40 American chameleon
    "lizard",  # 41 whiptail
    "lizard",  # 42 agama
    "lizard",  # 43 frilled lizard
    "lizard",  # 44 alligator lizard
    "lizard",  # 45 Gila monster
    "lizard",  # 46 green lizard
    "chameleon",  # 47 African chameleon
    "komodo dragon",  # 48 Komodo dragon
    "crocodile",  # 49 African crocodile
    "alligator",  # 50 American alligator
    "dinosaur",  # 51 triceratops
    "snake",  # 52 thunder snake
    "snake",  # 53 ringneck snake
    "snake",  # 54 hognose snake
    "snake",  # 55 green snake
    "snake",  # 56 king snake
    "snake",  # 57 garter snake
    "snake",  # 58 water snake
    "snake",  # 59 vine snake
    "snake",  # 60 night snake
    "snake",  # 61 boa constrictor
    "snake",  # 62 rock python
    "snake",  # 63 Indian cobra
    "snake",  # 64 green mamba
    "snake",  # 65 sea snake
    "snake",  # 66 horned viper
    "snake",  # 67 diamondback
    "snake",  # 68 sidewinder
    "trilobite",  # 69 trilobite
    "spider",  # 70 harvestman
    "scorpion",  # 71 scorpion
    "spider",  # 72 black and gold garden spider
    "spider",  # 73 barn spider
    "spider",  # 74 garden spider
    "spider",  # 75 black widow
    "spider",  # 76 tarantula
    "spider",  # 77 wolf spider
    "tick",  # 78 tick
    "centipede",  # 79 centipede
    "grouse",  # 80 black grouse
    "grouse",  # 81 ptarmigan
    "grouse",  # 82 ruffed grouse
    "grouse",  # 83 prairie chicken
    "peacock",  # 84 peacock
    "quail",  # 85 quail
    "partridge",  # 86 partridge
    "parrot",  # 87 African grey
    "parrot",  # 88 macaw
    "parrot",  # 89 sulphur-crested cockatoo
    "parrot",  # 90 lorikeet
    "bird",  # 91 coucal
    "bird",  # 92 bee eater
    "hornbill",  # 93 hornbill
    "hummingbird",  # 94 hummingbird
    "bird",  # 95 jacamar
    "toucan",  # 96 toucan
    "duck",  # 97 drake
    "duck",  # 98 red-breasted merganser
    "goose",  # 99 goose
    "swan",  # 100 black swan
    "elephant",  # 101 tusker
    "echidna",  # 102 echidna
    "platypus",  # 103 platypus
    "wallaby",  # 104 wallaby
    "koala",  # 105 koala
    "wombat",  # 106 wombat
    "jellyfish",  # 107 jellyfish
    "sea anemone",  # 108 sea anemone
    "coral",  # 109 brain coral
    "worm",  # 110 flatworm
    "worm",  # 111 nematode
    "seashell",  # 112 conch
    "snail",  # 113 snail
    "slug",  # 114 slug
    "sea slug",  # 115 sea slug
    "seashell",  # 116 chiton
    "seashell",  # 117 chambered nautilus
    "crab",  # 118 Dungeness crab
    "crab",  # 119 rock crab
    "crab",  # 120 fiddler crab
    "crab",  # 121 king crab
    "lobster",  # 122 American lobster
    "lobster",  # 123 spiny lobster
    "crayfish",  # 124 crayfish
    "crab",  # 125 hermit crab
    "woodlouse",  # 126 isopod
    "stork",  # 127 white stork
    "stork",  # 128 black stork
    "spoonbill",  # 129 spoonbill
    "flamingo",  # 130 flamingo
    "heron",  # 131 little blue heron
    "egret",  # 132 American egret
    "heron",  # 133 bittern
    "crane bird",  # 134 crane bird
    "bird",  # 135 limpkin
    "bird",  # 136 European gallinule
    "bird",  # 137 American coot
    "bird",  # 138 bustard
    "wading bird",  # 139 ruddy turnstone
    "wading bird",  # 140 red-backed sandpiper
    "wading bird",  # 141 redshank
    "wading bird",  # 142 dowitcher
    "wading bird",  # 143 oystercatcher
    "pelican",  # 144 pelican
    "penguin",  # 145 king penguin
    "albatross",  # 146 albatross
    "whale",  # 147 grey whale
    "orca",  # 148 killer whale
    "dugong",  # 149 dugong
    "sea lion",  # 150 sea lion
    "dog",  # 151 Chihuahua
    "dog",  # 152 Japanese spaniel
    "dog",  # 153 Maltese dog
    "dog",  # 154 Pekinese
    "dog",  # 155 Shih-Tzu
    "dog",  # 156 Blenheim spaniel
    "dog",  # 157 papillon
    "dog",  # 158 toy terrier
    "dog",  # 159 Rhodesian ridgeback
    "dog",  # 160 Afghan hound
    "dog",  # 161 basset
    "dog",  # 162 beagle
    "dog",  # 163 bloodhound
    "dog",  # 164 bluetick
    "dog",  # 165 black-and-tan coonhound
    "dog",  # 166 Walker hound
    "dog",  # 167 English foxhound
    "dog",  # 168 redbone
    "dog",  # 169 borzoi
    "dog",  # 170 Irish wolfhound
    "dog",  # 171 Italian greyhound
    "dog",  # 172 whippet
    "dog",  # 173 Ibizan hound
    "dog",  # 174 Norwegian elkhound
    "dog",  # 175 otterhound
    "dog",  # 176 Saluki
    "dog",  # 177 Scottish deerhound
    "dog",  # 178 Weimaraner
    "dog",  # 179 Staffordshire bullterrier
    "dog",  # 180 American Staffordshire terrier
    "dog",  # 181 Bedlington terrier
    "dog",  # 182 Border terrier
    "dog",  # 183 Kerry blue terrier
    "dog",  # 184 Irish terrier
    "dog",  # 185 Norfolk terrier
    "dog",  # 186 Norwich terrier
    "dog",  # 187 Yorkshire terrier
    "dog",  # 188 wire-haired fox terrier
    "dog",  # 189 Lakeland terrier
    "dog",  # 190 Sealyham terrier
    "dog",  # 191 Airedale
    "dog",  # 192 cairn
    "dog",  # 193 Australian terrier
    "dog",  # 194 Dandie Dinmont
    "dog",  # 195 Boston bull
    "dog",  # 196 miniature schnauzer
    "dog",  # 197 giant schnauzer
    "dog",  # 198 standard schnauzer
    "dog",  # 199 Scotch terrier
    "dog",  # 200 Tibetan terrier
    "dog",  # 201 silky terrier
    "dog",  # 202 soft-coated wheaten terrier
    "dog",  # 203 West Highland white terrier
    "dog",  # 204 Lhasa
    "dog",  # 205 flat-coated retriever
    "dog",  # 206 curly-coated retriever
    "dog",  # 207 golden retriever
    "dog",  # 208 Labrador retriever
    "dog",  # 209 Chesapeake Bay retriever
    "dog",  # 210 German short-haired pointer
    "dog",  # 211 vizsla
    "dog",  # 212 English setter
    "dog",  # 213 Irish setter
    "dog",  # 214 Gordon setter
    "dog",  # 215 Brittany spaniel
    "dog",  # 216 clumber
    "dog",  # 217 English springer
    "dog",  # 218 Welsh springer spaniel
    "dog",  # 219 cocker spaniel
    "dog",  # 220 Sussex spaniel
    "dog",  # 221 Irish water spaniel
    "dog",  # 222 kuvasz
    "dog",  # 223 schipperke
    "dog",  # 224 groenendael
    "dog",  # 225 malinois
    "dog",  # 226 briard
    "dog",  # 227 kelpie
    "dog",  # 228 komondor
    "dog",  # 229 Old English sheepdog
    "dog",  # 230 Shetland sheepdog
    "dog",  # 231 collie
    "dog",  # 232 Border collie
    "dog",  # 233 Bouvier des Flandres
    "dog",  # 234 Rottweiler
    "dog",  # 235 German shepherd
    "dog",  # 236 Doberman
    "dog",  # 237 miniature pinscher
    "dog",  # 238 Greater Swiss Mountain dog
    "dog",  # 239 Bernese mountain dog
    "dog",  # 240 Appenzeller
    "dog",  # 241 EntleBucher
    "dog",  # 242 boxer
    "dog",  # 243 bull mastiff
    "dog",  # 244 Tibetan mastiff
    "dog",  # 245 French bulldog
    "dog",  # 246 Great Dane
    "dog",  # 247 Saint Bernard
    "dog",  # 248 Eskimo dog
    "dog",  # 249 malamute
    "dog",  # 250 Siberian husky
    "dog",  # 251 dalmatian
    "dog",  # 252 affenpinscher
    "dog",  # 253 basenji
    "dog",  # 254 pug
    "dog",  # 255 Leonberg
    "dog",  # 256 Newfoundland
    "dog",  # 257 Great Pyrenees
    "dog",  # 258 Samoyed
    "dog",  # 259 Pomeranian
    "dog",  # 260 chow
    "dog",  # 261 keeshond
    "dog",  # 262 Brabancon griffon
    "dog",  # 263 Pembroke
    "dog",  # 264 Cardigan
    "dog",  # 265 toy poodle
    "dog",  # 266 miniature poodle
    "dog",  # 267 standard poodle
    "dog",  # 268 Mexican hairless
    "wolf",  # 269 timber wolf
    "wolf",  # 270 white wolf
    "wolf",  # 271 red wolf
    "coyote",  # 272 coyote
    "dingo",  # 273 dingo
    "wild dog",  # 274 dhole
    "wild dog",  # 275 African hunting dog
    "hyena",  # 276 hyena
    "fox",  # 277 red fox
    "fox",  # 278 kit fox
    "fox",  # 279 Arctic fox
    "fox",  # 280 grey fox
    "cat",  # 281 tabby
    "cat",  # 282 tiger cat
    "cat",  # 283 Persian cat
    "cat",  # 284 Siamese cat
    "cat",  # 285 Egyptian cat
    "cougar",  # 286 cougar
    "lynx",  # 287 lynx
    "leopard",  # 288 leopard
    "snow leopard",  # 289 snow leopard
    "jaguar",  # 290 jaguar
    "lion",  # 291 lion
    "tiger",  # 292 tiger
    "cheetah",  # 293 cheetah
    "bear",  # 294 brown bear
    "bear",  # 295 American black bear
    "polar bear",  # 296 ice bear
    "bear",  # 297 sloth bear
    "mongoose",  # 298 mongoose
    "meerkat",  # 299 meerkat
    "beetle",  # 300 tiger beetle
    "beetle",  # 301 ladybug
    "beetle",  # 302 ground beetle
    "beetle",  # 303 long-horned beetle
    "beetle",  # 304 leaf beetle
    "beetle",  # 305 dung beetle
    "beetle",  # 306 rhinoceros beetle
    "beetle",  # 307 weevil
    "fly",  # 308 fly
    "bee",  # 309 bee
    "ant",  # 310 ant
    "grasshopper",  # 311 grasshopper
    "cricket",  # 312 cricket
    "stick insect",  # 313 walking stick
    "cockroach",  # 314 cockroach
    "praying mantis",  # 315 mantis
    "cicada",  # 316 cicada
    "insect",  # 317 leafhopper
    "insect",  # 318 lacewing
    "dragonfly",  # 319 dragonfly
    "dragonfly",  # 320 damselfly
    "butterfly",  # 321 admiral
    "butterfly",  # 322 ringlet
    "butterfly",  # 323 monarch
    "butterfly",  # 324 cabbage butterfly
    "butterfly",  # 325 sulphur butterfly
    "butterfly",  # 326 lycaenid
    "starfish",  # 327 starfish
    "sea urchin",  # 328 sea urchin
    "sea cucumber",  # 329 sea cucumber
    "rabbit",  # 330 wood rabbit
    "hare",  # 331 hare
    "rabbit",  # 332 Angora
    "hamster",  # 333 hamster
    "porcupine",  # 334 porcupine
    "squirrel",  # 335 fox squirrel
    "marmot",  # 336 marmot
    "beaver",  # 337 beaver
    "guinea pig",  # 338 guinea pig
    "horse",  # 339 sorrel
    "zebra",  # 340 zebra
    "pig",  # 341 hog
    "boar",  # 342 wild boar
    "warthog",  # 343 warthog
    "hippo",  # 344 hippopotamus
    "cow",  # 345 ox
    "buffalo",  # 346 water buffalo
    "bison",  # 347 bison
    "sheep",  # 348 ram
    "mountain sheep",  # 349 bighorn
    "mountain goat",  # 350 ibex
    "antelope",  # 351 hartebeest
    "antelope",  # 352 impala
    "gazelle",  # 353 gazelle
    "camel",  # 354 Arabian camel
    "llama",  # 355 llama
    "weasel",  # 356 weasel
    "mink",  # 357 mink
    "weasel",  # 358 polecat
    "ferret",  # 359 black-footed ferret
    "otter",  # 360 otter
    "skunk",  # 361 skunk
    "badger",  # 362 badger
    "armadillo",  # 363 armadillo
    "sloth",  # 364 three-toed sloth
    "orangutan",  # 365 orangutan
    "gorilla",  # 366 gorilla
    "chimpanzee",  # 367 chimpanzee
    "gibbon",  # 368 gibbon
    "gibbon",  # 369 siamang
    "monkey",  # 370 guenon
    "monkey",  # 371 patas
    "baboon",  # 372 baboon
    "monkey",  # 373 macaque
    "monkey",  # 374 langur
    "monkey",  # 375 colobus
    "monkey",  # 376 proboscis monkey
    "monkey",  # 377 marmoset
    "monkey",  # 378 capuchin
    "monkey",  # 379 howler monkey
    "monkey",  # 380 titi
    "monkey",  # 381 spider monkey
    "monkey",  # 382 squirrel monkey
    "lemur",  # 383 Madagascar cat
    "lemur",  # 384 indri
    "elephant",  # 385 Indian elephant
    "elephant",  # 386 African elephant
    "red panda",  # 387 lesser panda
    "panda",  # 388 giant panda
    "fish",  # 389 barracouta
    "eel",  # 390 eel
    "salmon",  # 391 coho
    "tropical fish",  # 392 rock beauty
    "clownfish",  # 393 anemone fish
    "fish",  # 394 sturgeon
    "fish",  # 395 gar
    "lionfish",  # 396 lionfish
    "pufferfish",  # 397 puffer
    "abacus",  # 398 abacus
    "robe",  # 399 abaya
    "graduation gown",  # 400 academic gown
    "accordion",  # 401 accordion
    "guitar",  # 402 acoustic guitar
    "aircraft carrier",  # 403 aircraft carrier
    "airliner",  # 404 airliner
    "airship",  # 405 airship
    "altar",  # 406 altar
    "ambulance",  # 407 ambulance
    "amphibious vehicle",  # 408 amphibian
    "clock",  # 409 analog clock
    "beehive",  # 410 apiary
    "apron",  # 411 apron
    "bin",  # 412 ashcan
    "rifle",  # 413 assault rifle
    "backpack",  # 414 backpack
    "bakery",  # 415 bakery
    "gymnast",  # 416 balance beam
    "balloon",  # 417 balloon
    "pen",  # 418 ballpoint
    "plaster",  # 419 Band Aid
    "banjo",  # 420 banjo
    "staircase",  # 421 bannister
    "barbell",  # 422 barbell
    "barber chair",  # 423 barber chair
    "barbershop",  # 424 barbershop
    "barn",  # 425 barn
    "barometer",  # 426 barometer
    "barrel",  # 427 barrel
    "wheelbarrow",  # 428 barrow
    "baseball",  # 429 baseball
    "basketball",  # 430 basketball
    "cradle",  # 431 bassinet
    "bassoon",  # 432 bassoon
    "swimming cap",  # 433 bathing cap
    "towel",  # 434 bath towel
    "bath",  # 435 bathtub
    "car",  # 436 beach wagon
    "lighthouse",  # 437 beacon
    "beaker",  # 438 beaker
    "bearskin hat",  # 439 bearskin
    "bottle",  # 440 beer bottle
    "beer",  # 441 beer glass
    "bell tower",  # 442 bell cote
    "bib",  # 443 bib
    "tandem bicycle",  # 444 bicycle-built-for-two
    "bikini",  # 445 bikini
    "ring binder",  # 446 binder
    "binoculars",  # 447 binoculars
    "birdhouse",  # 448 birdhouse
    "boathouse",  # 449 boathouse
    "bobsleigh",  # 450 bobsled
    "bolo tie",  # 451 bolo tie
    "bonnet",  # 452 bonnet
    "bookshelf",  # 453 bookcase
    "bookshop",  # 454 bookshop
    "bottle cap",  # 455 bottlecap
    "bow",  # 456 bow
    "bow tie",  # 457 bow tie
    "plaque",  # 458 brass
    "bra",  # 459 brassiere
    "breakwater",  # 460 breakwater
    "armour",  # 461 breastplate
    "broom",  # 462 broom
    "bucket",  # 463 bucket
    "buckle",  # 464 buckle
    "body armour",  # 465 bulletproof vest
    "train",  # 466 bullet train
    "butcher shop",  # 467 butcher shop
    "taxi",  # 468 cab
    "cauldron",  # 469 caldron
    "candle",  # 470 candle
    "cannon",  # 471 cannon
    "canoe",  # 472 canoe
    "can opener",  # 473 can opener
    "cardigan",  # 474 cardigan
    "car mirror",  # 475 car mirror
    "carousel",  # 476 carousel
    "tools",  # 477 carpenter's kit
    "box",  # 478 carton
    "wheel",  # 479 car wheel
    "cash machine",  # 480 cash machine
    "cassette",  # 481 cassette
    "cassette player",  # 482 cassette player
    "castle",  # 483 castle
    "catamaran",  # 484 catamaran
    "CD player",  # 485 CD player
    "cello",  # 486 cello
    "mobile phone",  # 487 cellular telephone
    "chain",  # 488 chain
    "fence",  # 489 chainlink fence
    "chain mail",  # 490 chain mail
    "chainsaw",  # 491 chain saw
    "chest",  # 492 chest
    "chest of drawers",  # 493 chiffonier
    "chimes",  # 494 chime
    "cabinet",  # 495 china cabinet
    "Christmas stocking",  # 496 Christmas stocking
    "church",  # 497 church
    "cinema",  # 498 cinema
    "cleaver",  # 499 cleaver
    "cliff dwelling",  # 500 cliff dwelling
    "cloak",  # 501 cloak
    "clog",  # 502 clog
    "cocktail shaker",  # 503 cocktail shaker
    "mug",  # 504 coffee mug
    "coffeepot",  # 505 coffeepot
    "spiral",  # 506 coil
    "lock",  # 507 combination lock
    "keyboard",  # 508 computer keyboard
    "sweet shop",  # 509 confectionery
    "ship",  # 510 container ship
    "car",  # 511 convertible
    "corkscrew",  # 512 corkscrew
    "trumpet",  # 513 cornet
    "boot",  # 514 cowboy boot
    "cowboy hat",  # 515 cowboy hat
    "cradle",  # 516 cradle
    "crane",  # 517 crane
    "helmet",  # 518 crash helmet
    "crate",  # 519 crate
    "crib",  # 520 crib
    "slow cooker",  # 521 Crock Pot
    "croquet ball",  # 522 croquet ball
    "crutch",  # 523 crutch
    "armour",  # 524 cuirass
    "dam",  # 525 dam
    "desk",  # 526 desk
    "computer",  # 527 desktop computer
    "telephone",  # 528 dial telephone
    "nappy",  # 529 diaper
    "clock",  # 530 digital clock
    "watch",  # 531 digital watch
    "table",  # 532 dining table
    "cloth",  # 533 dishrag
    "dishwasher",  # 534 dishwasher
    "brake",  # 535 disk brake
    "dock",  # 536 dock
    "sled dogs",  # 537 dogsled
    "dome",  # 538 dome
    "doormat",  # 539 doormat
    "oil rig",  # 540 drilling platform
    "drum",  # 541 drum
    "drumstick",  # 542 drumstick
    "dumbbell",  # 543 dumbbell
    "cooking pot",  # 544 Dutch oven
    "fan",  # 545 electric fan
    "electric guitar",  # 546 electric guitar
    "train",  # 547 electric locomotive
    "television",  # 548 entertainment center
    "envelope",  # 549 envelope
    "coffee machine",  # 550 espresso maker
    "makeup",  # 551 face powder
    "feather boa",  # 552 feather boa
    "filing cabinet",  # 553 file
    "fireboat",  # 554 fireboat
    "fire engine",  # 555 fire engine
    "fireplace",  # 556 fire screen
    "flag",  # 557 flagpole
    "flute",  # 558 flute
    "chair",  # 559 folding chair
    "football helmet",  # 560 football helmet
    "forklift",  # 561 forklift
    "fountain",  # 562 fountain
    "pen",  # 563 fountain pen
    "bed",  # 564 four-poster
    "railway wagon",  # 565 freight car
    "horn",  # 566 French horn
    "frying pan",  # 567 frying pan
    "fur coat",  # 568 fur coat
    "rubbish truck",  # 569 garbage truck
    "gas mask",  # 570 gasmask
    "petrol pump",  # 571 gas pump
    "goblet",  # 572 goblet
    "go-kart",  # 573 go-kart
    "golf ball",  # 574 golf ball
    "golf cart",  # 575 golfcart
    "gondola",  # 576 gondola
    "gong",  # 577 gong
    "gown",  # 578 gown
    "piano",  # 579 grand piano
    "greenhouse",  # 580 greenhouse
    "car grille",  # 581 grille
    "grocery",  # 582 grocery store
    "guillotine",  # 583 guillotine
    "hair clip",  # 584 hair slide
    "hair spray",  # 585 hair spray
    "military vehicle",  # 586 half track
    "hammer",  # 587 hammer
    "basket",  # 588 hamper
    "hair dryer",  # 589 hand blower
    "handheld computer",  # 590 hand-held computer
    "handkerchief",  # 591 handkerchief
    "hard drive",  # 592 hard disc
    "harmonica",  # 593 harmonica
    "harp",  # 594 harp
    "combine harvester",  # 595 harvester
    "axe",  # 596 hatchet
    "holster",  # 597 holster
    "home cinema",  # 598 home theater
    "honeycomb",  # 599 honeycomb
    "hook",  # 600 hook
    "crinoline",  # 601 hoopskirt
    "gymnast",  # 602 horizontal bar
    "horse and cart",  # 603 horse cart
    "hourglass",  # 604 hourglass
    "music player",  # 605 iPod
    "iron",  # 606 iron
    "pumpkin lantern",  # 607 jack-o'-lantern
    "jeans",  # 608 jean
    "jeep",  # 609 jeep
    "shirt",  # 610 jersey
    "jigsaw puzzle",  # 611 jigsaw puzzle
    "rickshaw",  # 612 jinrikisha
    "joystick",  # 613 joystick
    "kimono",  # 614 kimono
    "knee pad",  # 615 knee pad
    "knot",  # 616 knot
    "lab coat",  # 617 lab coat
    "ladle",  # 618 ladle
    "lamp",  # 619 lampshade
    "laptop",  # 620 laptop
    "lawn mower",  # 621 lawn mower
    "lens cap",  # 622 lens cap
    "letter opener",  # 623 letter opener
    "library",  # 624 library
    "lifeboat",  # 625 lifeboat
    "lighter",  # 626 lighter
    "limousine",  # 627 limousine
    "ocean liner",  # 628 liner
    "lipstick",  # 629 lipstick
    "shoe",  # 630 Loafer
    "lotion",  # 631 lotion
    "loudspeaker",  # 632 loudspeaker
    "magnifying glass",  # 633 loupe
    "sawmill",  # 634 lumbermill
    "compass",  # 635 magnetic compass
    "mailbag",  # 636 mailbag
    "letterbox",  # 637 mailbox
    "leotard",  # 638 maillot
    "swimsuit",  # 639 maillot tank suit
    "manhole cover",  # 640 manhole cover
    "maraca",  # 641 maraca
    "marimba",  # 642 marimba
    "mask",  # 643 mask
    "matches",  # 644 matchstick
    "maypole",  # 645 maypole
    "maze",  # 646 maze
    "measuring cup",  # 647 measuring cup
    "cabinet",  # 648 medicine chest
    "standing stones",  # 649 megalith
    "microphone",  # 650 microphone
    "microwave",  # 651 microwave
    "uniform",  # 652 military uniform
    "milk churn",  # 653 milk can
    "minibus",  # 654 minibus
    "skirt",  # 655 miniskirt
    "van",  # 656 minivan
    "rocket",  # 657 missile
    "mittens",  # 658 mitten
    "bowl",  # 659 mixing bowl
    "caravan",  # 660 mobile home
    "vintage car",  # 661 Model T
    "modem",  # 662 modem
    "monastery",  # 663 monastery
    "computer screen",  # 664 monitor
    "scooter",  # 665 moped
    "mortar and pestle",  # 666 mortar
    "graduation cap",  # 667 mortarboard
    "mosque",  # 668 mosque
    "mosquito net",  # 669 mosquito net
    "scooter",  # 670 motor scooter
    "bicycle",  # 671 mountain bike
    "tent",  # 672 mountain tent
    "computer mouse",  # 673 mouse
    "mousetrap",  # 674 mousetrap
    "van",  # 675 moving van
    "muzzle",  # 676 muzzle
    "nail",  # 677 nail
    "neck brace",  # 678 neck brace
    "necklace",  # 679 necklace
    "baby bottle",  # 680 nipple
    "laptop",  # 681 notebook
    "obelisk",  # 682 obelisk
    "oboe",  # 683 oboe
    "ocarina",  # 684 ocarina
    "dashboard",  # 685 odometer
    "oil filter",  # 686 oil filter
    "pipe organ",  # 687 organ
    "oscilloscope",  # 688 oscilloscope
    "skirt",  # 689 overskirt
    "ox cart",  # 690 oxcart
    "oxygen mask",  # 691 oxygen mask
    "package",  # 692 packet
    "paddle",  # 693 paddle
    "paddle wheel",  # 694 paddlewheel
    "padlock",  # 695 padlock
    "paintbrush",  # 696 paintbrush
    "pyjamas",  # 697 pajama
    "palace",  # 698 palace
    "pan pipes",  # 699 panpipe
    "paper towel",  # 700 paper towel
    "parachute",  # 701 parachute
    "gymnast",  # 702 parallel bars
    "bench",  # 703 park bench
    "parking meter",  # 704 parking meter
    "railway carriage",  # 705 passenger car
    "patio",  # 706 patio
    "phone box",  # 707 pay-phone
    "pedestal",  # 708 pedestal
    "pencil case",  # 709 pencil box
    "pencil sharpener",  # 710 pencil sharpener
    "perfume",  # 711 perfume
    "petri dish",  # 712 Petri dish
    "photocopier",  # 713 photocopier
    "plectrum",  # 714 pick
    "spiked helmet",  # 715 pickelhaube
    "fence",  # 716 picket fence
    "pickup truck",  # 717 pickup
    "pier",  # 718 pier
    "piggy bank",  # 719 piggy bank
    "pill bottle",  # 720 pill bottle
    "pillow",  # 721 pillow
    "ping-pong ball",  # 722 ping-pong ball
    "pinwheel",  # 723 pinwheel
    "pirate ship",  # 724 pirate
    "jug",  # 725 pitcher
    "woodworking plane",  # 726 plane
    "planetarium",  # 727 planetarium
    "plastic bag",  # 728 plastic bag
    "dish rack",  # 729 plate rack
    "plough",  # 730 plow
    "plunger",  # 731 plunger
    "camera",  # 732 Polaroid camera
    "pole",  # 733 pole
    "police van",  # 734 police van
    "poncho",  # 735 poncho
    "billiard table",  # 736 pool table
    "bottle",  # 737 pop bottle
    "plant pot",  # 738 pot
    "potter's wheel",  # 739 potter's wheel
    "drill",  # 740 power drill
    "rug",  # 741 prayer rug
    "printer",  # 742 printer
    "prison",  # 743 prison
    "rocket",  # 744 projectile
    "projector",  # 745 projector
    "hockey puck",  # 746 puck
    "punching bag",  # 747 punching bag
    "handbag",  # 748 purse
    "quill pen",  # 749 quill
    "quilt",  # 750 quilt
    "racing car",  # 751 racer
    "racket",  # 752 racket
    "radiator",  # 753 radiator
    "radio",  # 754 radio
    "radio telescope",  # 755 radio telescope
    "water butt",  # 756 rain barrel
    "camper van",  # 757 recreational vehicle
    "fishing reel",  # 758 reel
    "camera",  # 759 reflex camera
    "fridge",  # 760 refrigerator
    "remote control",  # 761 remote control
    "restaurant",  # 762 restaurant
    "revolver",  # 763 revolver
    "rifle",  # 764 rifle
    "rocking chair",  # 765 rocking chair
    "rotisserie",  # 766 rotisserie
    "eraser",  # 767 rubber eraser
    "rugby ball",  # 768 rugby ball
    "ruler",  # 769 rule
    "running shoe",  # 770 running shoe
    "safe",  # 771 safe
    "safety pin",  # 772 safety pin
    "salt shaker",  # 773 saltshaker
    "sandal",  # 774 sandal
    "sarong",  # 775 sarong
    "saxophone",  # 776 sax
    "scabbard",  # 777 scabbard
    "scales",  # 778 scale
    "bus",  # 779 school bus
    "sailing ship",  # 780 schooner
    "scoreboard",  # 781 scoreboard
    "screen",  # 782 screen
    "screw",  # 783 screw
    "screwdriver",  # 784 screwdriver
    "seat belt",  # 785 seat belt
    "sewing machine",  # 786 sewing machine
    "shield",  # 787 shield
    "shoe shop",  # 788 shoe shop
    "paper screen",  # 789 shoji
    "basket",  # 790 shopping basket
    "shopping trolley",  # 791 shopping cart
    "spade",  # 792 shovel
    "shower cap",  # 793 shower cap
    "shower curtain",  # 794 shower curtain
    "ski",  # 795 ski
    "balaclava",  # 796 ski mask
    "sleeping bag",  # 797 sleeping bag
    "slide rule",  # 798 slide rule
    "door",  # 799 sliding door
    "slot machine",  # 800 slot
    "snorkel",  # 801 snorkel
    "snowmobile",  # 802 snowmobile
    "snowplough",  # 803 snowplow
    "soap dispenser",  # 804 soap dispenser
    "football",  # 805 soccer ball
    "sock",  # 806 sock
    "solar dish",  # 807 solar dish
    "sombrero",  # 808 sombrero
    "soup",  # 809 soup bowl
    "keyboard",  # 810 space bar
    "heater",  # 811 space heater
    "space shuttle",  # 812 space shuttle
    "spatula",  # 813 spatula
    "speedboat",  # 814 speedboat
    "spider web",  # 815 spider web
    "spindle",  # 816 spindle
    "sports car",  # 817 sports car
    "spotlight",  # 818 spotlight
    "stage",  # 819 stage
    "steam train",  # 820 steam locomotive
    "bridge",  # 821 steel arch bridge
    "steel drum",  # 822 steel drum
    "stethoscope",  # 823 stethoscope
    "scarf",  # 824 stole
    "stone wall",  # 825 stone wall
    "stopwatch",  # 826 stopwatch
    "stove",  # 827 stove
    "sieve",  # 828 strainer
    "tram",  # 829 streetcar
    "stretcher",  # 830 stretcher
    "sofa",  # 831 studio couch
    "stupa",  # 832 stupa
    "submarine",  # 833 submarine
    "suit",  # 834 suit
    "sundial",  # 835 sundial
    "sunglasses",  # 836 sunglass
    "sunglasses",  # 837 sunglasses
    "sun cream",  # 838 sunscreen
    "bridge",  # 839 suspension bridge
    "mop",  # 840 swab
    "sweatshirt",  # 841 sweatshirt
    "swimming trunks",  # 842 swimming trunks
    "swing",  # 843 swing
    "light switch",  # 844 switch
    "syringe",  # 845 syringe
    "lamp",  # 846 table lamp
    "tank",  # 847 tank
    "tape player",  # 848 tape player
    "teapot",  # 849 teapot
    "teddy bear",  # 850 teddy
    "television",  # 851 television
    "tennis ball",  # 852 tennis ball
    "thatched roof",  # 853 thatch
    "stage curtain",  # 854 theater curtain
    "thimble",  # 855 thimble
    "threshing machine",  # 856 thresher
    "throne",  # 857 throne
    "roof",  # 858 tile roof
    "toaster",  # 859 toaster
    "tobacconist",  # 860 tobacco shop
    "toilet",  # 861 toilet seat
    "torch",  # 862 torch
    "totem pole",  # 863 totem pole
    "tow truck",  # 864 tow truck
    "toy shop",  # 865 toyshop
    "tractor",  # 866 tractor
    "lorry",  # 867 trailer truck
    "tray",  # 868 tray
    "coat",  # 869 trench coat
    "tricycle",  # 870 tricycle
    "trimaran",  # 871 trimaran
    "tripod",  # 872 tripod
    "arch",  # 873 triumphal arch
    "bus",  # 874 trolleybus
    "trombone",  # 875 trombone
    "tub",  # 876 tub
    "turnstile",  # 877 turnstile
    "typewriter",  # 878 typewriter keyboard
    "umbrella",  # 879 umbrella
    "unicycle",  # 880 unicycle
    "piano",  # 881 upright
    "vacuum cleaner",  # 882 vacuum
    "vase",  # 883 vase
    "vaulted ceiling",  # 884 vault
    "velvet",  # 885 velvet
    "vending machine",  # 886 vending machine
    "robe",  # 887 vestment
    "viaduct",  # 888 viaduct
    "violin",  # 889 violin
    "volleyball",  # 890 volleyball
    "waffle iron",  # 891 waffle iron
    "clock",  # 892 wall clock
    "wallet",  # 893 wallet
    "wardrobe",  # 894 wardrobe
    "fighter plane",  # 895 warplane
    "sink",  # 896 washbasin
    "washing machine",  # 897 washer
    "bottle",  # 898 water bottle
    "jug",  # 899 water jug
    "water tower",  # 900 water tower
    "jug",  # 901 whiskey jug
    "whistle",  # 902 whistle
    "wig",  # 903 wig
    "window",  # 904 window screen
    "window blind",  # 905 window shade
    "tie",  # 906 Windsor tie
    "wine bottle",  # 907 wine bottle
    "aeroplane wing",  # 908 wing
    "wok",  # 909 wok
    "spoon",  # 910 wooden spoon
    "yarn",  # 911 wool
    "fence",  # 912 worm fence
    "shipwreck",  # 913 wreck
    "sailing boat",  # 914 yawl
    "yurt",  # 915 yurt
    "website",  # 916 web site
    "comic",  # 917 comic book
    "crossword",  # 918 crossword puzzle
    "street sign",  # 919 street sign
    "traffic light",  # 920 traffic light
    "book",  # 921 book jacket
    "menu",  # 922 menu
    "plate",  # 923 plate
    "guacamole",  # 924 guacamole
    "soup",  # 925 consomme
    "stew",  # 926 hot pot
    "dessert",  # 927 trifle
    "ice cream",  # 928 ice cream
    "ice lolly",  # 929 ice lolly
    "bread",  # 930 French loaf
    "bagel",  # 931 bagel
    "pretzel",  # 932 pretzel
    "burger",  # 933 cheeseburger
    "hot dog",  # 934 hotdog
    "mashed potato",  # 935 mashed potato
    "cabbage",  # 936 head cabbage
    "broccoli",  # 937 broccoli
    "cauliflower",  # 938 cauliflower
    "courgette",  # 939 zucchini
    "squash",  # 940 spaghetti squash
    "squash",  # 941 acorn squash
    "squash",  # 942 butternut squash
    "cucumber",  # 943 cucumber
    "artichoke",  # 944 artichoke
    "pepper",  # 945 bell pepper
    "thistle",  # 946 cardoon
    "mushroom",  # 947 mushroom
    "apple",  # 948 Granny Smith
    "strawberry",  # 949 strawberry
    "orange",  # 950 orange
    "lemon",  # 951 lemon
    "fig",  # 952 fig
    "pineapple",  # 953 pineapple
    "banana",  # 954 banana
    "jackfruit",  # 955 jackfruit
    "custard apple",  # 956 custard apple
    "pomegranate",  # 957 pomegranate
    "hay",  # 958 hay
    "pasta",  # 959 carbonara
    "chocolate",  # 960 chocolate sauce
    "dough",  # 961 dough
    "meatloaf",  # 962 meat loaf
    "pizza",  # 963 pizza
    "pie",  # 964 potpie
    "burrito",  # 965 burrito
    "wine",  # 966 red wine
    "coffee",  # 967 espresso
    "cup",  # 968 cup
    "eggnog",  # 969 eggnog
    "mountain",  # 970 alp
    "bubbles",  # 971 bubble
    "cliff",  # 972 cliff
    "coral reef",  # 973 coral reef
    "geyser",  # 974 geyser
    "lake",  # 975 lakeside
    "headland",  # 976 promontory
    "sandbank",  # 977 sandbar
    "seashore",  # 978 seashore
    "valley",  # 979 valley
    "volcano",  # 980 volcano
    "baseball player",  # 981 ballplayer
    "bridegroom",  # 982 groom
    "diver",  # 983 scuba diver
    "rapeseed field",  # 984 rapeseed
    "daisy",  # 985 daisy
    "orchid",  # 986 yellow lady's slipper
    "sweetcorn",  # 987 corn
    "acorn",  # 988 acorn
    "rose hip",  # 989 hip
    "conker",  # 990 buckeye
    "fungus",  # 991 coral fungus
    "mushroom",  # 992 agaric
    "mushroom",  # 993 gyromitra
    "mushroom",  # 994 stinkhorn
    "mushroom",  # 995 earthstar
    "mushroom",  # 996 hen-of-the-woods
    "mushroom",  # 997 bolete
    "ear of corn",  # 998 ear
    "toilet roll",  # 999 toilet tissue
)

# Words that take no article in an idea text ("coffee", not "a coffee"): mass nouns and plurals.
UNCOUNTED: frozenset[str] = frozenset(
    {
        "armour",
        "beer",
        "binoculars",
        "body armour",
        "bread",
        "broccoli",
        "bubbles",
        "cauliflower",
        "chain mail",
        "chimes",
        "chocolate",
        "coffee",
        "dessert",
        "dough",
        "eggnog",
        "guacamole",
        "hair spray",
        "hay",
        "honeycomb",
        "ice cream",
        "jeans",
        "lotion",
        "makeup",
        "mashed potato",
        "matches",
        "meatloaf",
        "mittens",
        "pan pipes",
        "pasta",
        "perfume",
        "pyjamas",
        "scales",
        "sled dogs",
        "soup",
        "standing stones",
        "stew",
        "sun cream",
        "sunglasses",
        "sweetcorn",
        "swimming trunks",
        "tools",
        "velvet",
        "wine",
        "yarn",
    }
)

# Words meaning "a flat printed picture" (a book jacket, a comic, a jigsaw puzzle): what the network answers
# for most paintings, so they say nothing about what a picture shows.
FLAT_PICTURE: frozenset[str] = frozenset(
    {
        "book",
        "comic",
        "crossword",
        "envelope",
        "jigsaw puzzle",
        "menu",
        "ring binder",
        "website",
    }
)
